package core

import (
	"fmt"
	"net"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Helpers shared by the resources of this file set. Everything here is
// prefixed "common" so it cannot collide with the pod helpers that live in
// the same package.

// commonMaxDataBytes is the limit Kubernetes puts on the summed size of a
// ConfigMap's or Secret's values (core.MaxSecretSize).
const commonMaxDataBytes = 1 << 20

// commonImmutableWhenSetMsg is the detail Kubernetes reports when the data of
// an immutable ConfigMap or Secret changes.
const commonImmutableWhenSetMsg = "field is immutable when `immutable` is set"

// commonNameColumn is the first column of every table; kubectl uses its
// "name" format to build resource/name output.
func commonNameColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
}

// commonAgeColumn is the usual AGE column.
func commonAgeColumn() metav1.TableColumnDefinition {
	return commonColumn("Age", "string", metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"])
}

// commonColumn builds a column shown by plain `kubectl get`.
func commonColumn(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
}

// commonWideColumn builds a column shown only by `kubectl get -o wide`.
func commonWideColumn(name, typ, description string) metav1.TableColumnDefinition {
	c := commonColumn(name, typ, description)
	c.Priority = 1
	return c
}

// commonAge renders the time elapsed since t the way kubectl does, with
// "<unknown>" for an unset time.
func commonAge(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// commonMicroAge is commonAge for MicroTime values.
func commonMicroAge(t metav1.MicroTime) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// commonAccessModes abbreviates access modes in Kubernetes' fixed order
// (RWO, ROX, RWX, RWOP), ignoring duplicates.
func commonAccessModes(modes []corev1.PersistentVolumeAccessMode) string {
	has := map[corev1.PersistentVolumeAccessMode]bool{}
	for _, m := range modes {
		has[m] = true
	}
	var out []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{
		{corev1.ReadWriteOnce, "RWO"},
		{corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"},
		{corev1.ReadWriteOncePod, "RWOP"},
	} {
		if has[m.mode] {
			out = append(out, m.short)
		}
	}
	return strings.Join(out, ",")
}

// commonMessages turns validation messages about value into Invalid errors.
func commonMessages(p *field.Path, value interface{}, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, m := range msgs {
		errs = append(errs, field.Invalid(p, value, m))
	}
	return errs
}

// commonDNS1123Label validates a DNS-1123 label.
func commonDNS1123Label(value string, p *field.Path) field.ErrorList {
	return commonMessages(p, value, validation.IsDNS1123Label(value))
}

// commonDNS1123Subdomain validates a DNS-1123 subdomain.
func commonDNS1123Subdomain(value string, p *field.Path) field.ErrorList {
	return commonMessages(p, value, validation.IsDNS1123Subdomain(value))
}

// commonQualifiedName validates a qualified name ("prefix/name").
func commonQualifiedName(value string, p *field.Path) field.ErrorList {
	return commonMessages(p, value, validation.IsQualifiedName(value))
}

// commonImmutable reports a change of an immutable field.
func commonImmutable(newVal, oldVal interface{}, p *field.Path) field.ErrorList {
	return apivalidation.ValidateImmutableField(newVal, oldVal, p)
}

// commonFinalizerName validates a finalizer: a qualified name that, unless
// it is the built-in "kubernetes", must be fully qualified.
func commonFinalizerName(name string, p *field.Path) field.ErrorList {
	errs := apivalidation.ValidateFinalizerName(name, p)
	if !strings.Contains(name, "/") && name != string(corev1.FinalizerKubernetes) {
		errs = append(errs, field.Invalid(p, name, "name is neither a standard finalizer name nor is it fully qualified"))
	}
	return errs
}

// commonPathSegmentName validates a name that only has to be usable as a
// URL path segment (what the generic store requires of every object).
func commonPathSegmentName(name string, prefix bool) []string {
	var msgs []string
	if !prefix && (name == "." || name == "..") {
		msgs = append(msgs, fmt.Sprintf("may not be '%s'", name))
	}
	for _, illegal := range []string{"/", "%"} {
		if strings.Contains(name, illegal) {
			msgs = append(msgs, fmt.Sprintf("may not contain '%s'", illegal))
		}
	}
	return msgs
}

// commonNonSpecialIP rejects addresses that make no sense as endpoints or
// external IPs: unspecified, loopback and link-local ones.
func commonNonSpecialIP(addr string, p *field.Path) field.ErrorList {
	ip := net.ParseIP(addr)
	if ip == nil {
		return field.ErrorList{field.Invalid(p, addr, "must be a valid IP address")}
	}
	var errs field.ErrorList
	if ip.IsUnspecified() {
		errs = append(errs, field.Invalid(p, addr, fmt.Sprintf("may not be unspecified (%v)", addr)))
	}
	if ip.IsLoopback() {
		errs = append(errs, field.Invalid(p, addr, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if ip.IsLinkLocalUnicast() {
		errs = append(errs, field.Invalid(p, addr, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if ip.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(p, addr, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

// commonIntegerResources() are the resource names whose quantities must be
// whole numbers.
func commonIntegerResources() map[corev1.ResourceName]bool {
	return map[corev1.ResourceName]bool{
		corev1.ResourcePods:                   true,
		corev1.ResourceServices:               true,
		corev1.ResourceReplicationControllers: true,
		corev1.ResourceQuotas:                 true,
		corev1.ResourceSecrets:                true,
		corev1.ResourceConfigMaps:             true,
		corev1.ResourcePersistentVolumeClaims: true,
		corev1.ResourceServicesNodePorts:      true,
		corev1.ResourceServicesLoadBalancers:  true,
	}
}

// commonIsNativeResource reports whether a resource name belongs to
// Kubernetes itself: unprefixed or in the kubernetes.io domain.
func commonIsNativeResource(name corev1.ResourceName) bool {
	s := string(name)
	return !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix)
}

// commonIsIntegerResource reports whether quantities of name must be
// integers: object counts and extended (non-native) resources.
func commonIsIntegerResource(name corev1.ResourceName) bool {
	if commonIntegerResources()[name] {
		return true
	}
	s := string(name)
	if commonIsNativeResource(name) || strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+s)) == 0
}

// commonQuantity validates a resource quantity: never negative and, for
// integer resources, whole.
func commonQuantity(name corev1.ResourceName, q resource.Quantity, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if q.Sign() < 0 {
		errs = append(errs, field.Invalid(p, q.String(), apivalidation.IsNegativeErrorMsg))
	}
	if commonIsIntegerResource(name) && q.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(p, q, "must be an integer"))
	}
	return errs
}

// commonStandardResources() are the unprefixed resource names Kubernetes
// accepts in resource lists.
func commonStandardResources() map[string]bool {
	return map[string]bool{
		"cpu": true, "memory": true, "ephemeral-storage": true, "storage": true,
		"requests.cpu": true, "requests.memory": true, "requests.ephemeral-storage": true, "requests.storage": true,
		"limits.cpu": true, "limits.memory": true, "limits.ephemeral-storage": true,
		"pods": true, "services": true, "replicationcontrollers": true, "resourcequotas": true,
		"secrets": true, "configmaps": true, "persistentvolumeclaims": true,
		"services.nodeports": true, "services.loadbalancers": true,
	}
}

// commonIsHugePages reports hugepages resource names, with or without a
// requests./limits. prefix.
func commonIsHugePages(name string) bool {
	name = strings.TrimPrefix(strings.TrimPrefix(name, "requests."), "limits.")
	return strings.HasPrefix(name, corev1.ResourceHugePagesPrefix)
}

// commonResourceName validates a resource name: a qualified name that, when
// unprefixed, must be one Kubernetes knows.
func commonResourceName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	errs := commonMessages(p, name, validation.IsQualifiedName(string(name)))
	if len(errs) > 0 {
		return errs
	}
	s := string(name)
	if !strings.Contains(s, "/") && !commonStandardResources()[s] && !commonIsHugePages(s) {
		errs = append(errs, field.Invalid(p, name, "must be a standard resource type or fully qualified"))
	}
	return errs
}

// commonSameStringMap compares maps treating nil and empty as equal, since
// defaulting turns one into the other.
func commonSameStringMap(a, b map[string]string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// commonSameBytesMap is commonSameStringMap for binary data.
func commonSameBytesMap(a, b map[string][]byte) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || string(v) != string(w) {
			return false
		}
	}
	return true
}
