package podsecurity

import (
	"fmt"
	"log/slog"
	"reflect"

	"github.com/skiff-io/skiff/internal/apiserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Audit annotation keys the plug-in reports through Admission.Annotate,
// as kube-apiserver names them in audit events.
const (
	AuditViolationsAnnotation = "pod-security.kubernetes.io/audit-violations"
	EnforcePolicyAnnotation   = "pod-security.kubernetes.io/enforce-policy"
	ErrorAnnotation           = "pod-security.kubernetes.io/error"
)

// Admission is the PodSecurity admission plug-in. It enforces, audits and
// warns about the Pod Security Standards level each namespace selects with
// its pod-security.kubernetes.io/* labels:
//   - pods (create, and updates that change what the standards look at)
//     violating the enforce level are refused with 403 Forbidden;
//   - pods and workload templates violating the warn level get a warning;
//   - violations of the audit level are passed to Annotate.
//
// Workload resources are never refused: their pods are checked when
// created. Namespaces with invalid labels are refused (422), and changing
// a namespace's enforce level warns about existing pods that violate it.
// Nothing is exempt.
type Admission struct {
	// Namespaces returns a namespace by name (required).
	Namespaces func(name string) (*corev1.Namespace, error)
	// Pods lists a namespace's pods (optional; without it namespace
	// updates do not check existing pods). The pods are not modified.
	Pods func(namespace string) ([]*corev1.Pod, error)
	// Annotate records an audit annotation for the request (optional).
	Annotate func(a *apiserver.Attributes, key, value string)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// ignoredPodSubresources cannot change what the standards check.
func ignoredPodSubresources() map[string]bool {
	return map[string]bool{"exec": true, "attach": true, "binding": true, "eviction": true,
		"log": true, "portforward": true, "proxy": true, "status": true}
}

// Admit implements apiserver.Admission.
func (p *Admission) Admit(a *apiserver.Attributes) error {
	if a.Verb != "create" && a.Verb != "update" {
		return nil
	}
	key := a.Resource.Group + "/" + a.Resource.Resource
	switch {
	case key == "/namespaces":
		return p.admitNamespace(a)
	case key == "/pods":
		return p.admitPod(a)
	case workloadResources()[key]:
		p.admitWorkload(a)
	}
	return nil
}

// Done implements apiserver.Admission.
func (p *Admission) Done(*apiserver.Attributes, bool) {}

func (p *Admission) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

func (p *Admission) annotate(a *apiserver.Attributes, key, value string) {
	if p.Annotate != nil {
		p.Annotate(a, key, value)
	}
}

func (p *Admission) admitNamespace(a *apiserver.Attributes) error {
	if a.Subresource != "" {
		return nil
	}
	ns, ok := a.Object.(*corev1.Namespace)
	if !ok {
		return apierrors.NewBadRequest("failed to decode namespace")
	}
	newPolicy, newErrs := PolicyFromLabels(ns.Labels)
	invalid := func() error {
		return apierrors.NewInvalid(schema.GroupKind{Kind: "Namespace"}, a.Name, newErrs)
	}
	if a.Verb == "create" {
		if len(newErrs) > 0 {
			return invalid()
		}
		return nil
	}
	old, ok := a.Old.(*corev1.Namespace)
	if !ok {
		return apierrors.NewBadRequest("failed to decode old namespace")
	}
	oldPolicy, oldErrs := PolicyFromLabels(old.Labels)
	// Labels that were already invalid may stay so (refusing would block
	// every unrelated update of the namespace); new invalid values may not.
	if len(newErrs) > 0 && (len(oldErrs) == 0 || !reflect.DeepEqual(newErrs, oldErrs)) {
		return invalid()
	}
	if !enforceTightened(oldPolicy.Enforce, newPolicy.Enforce) || p.Pods == nil {
		return nil
	}
	pods, err := p.Pods(ns.Name)
	if err != nil {
		p.log().Error("podsecurity: listing pods", "namespace", ns.Name, "err", err)
		a.Warnings = append(a.Warnings, "failed to list pods while checking new PodSecurity enforce level")
		return nil
	}
	a.Warnings = append(a.Warnings, ExistingPodWarnings(ns.Name, newPolicy.Enforce, pods)...)
	return nil
}

// enforceTightened reports whether a namespace's enforce policy changed in
// a way that may newly refuse pods, so that existing pods are worth
// checking: not when unchanged, not when privileged, and not when only the
// level was relaxed.
func enforceTightened(before, after LevelVersion) bool {
	if after == before || after.Level == LevelPrivileged {
		return false
	}
	if after.Version == before.Version && after.Level.strictness() <= before.Level.strictness() {
		return false
	}
	return true
}

func (p *Admission) admitPod(a *apiserver.Attributes) error {
	if ignoredPodSubresources()[a.Subresource] {
		return nil
	}
	ns, err := p.Namespaces(a.Namespace)
	if err != nil {
		p.log().Error("podsecurity: looking up namespace", "namespace", a.Namespace, "err", err)
		return apierrors.NewInternalError(fmt.Errorf("failed to lookup namespace %s", a.Namespace))
	}
	policy, errs := PolicyFromLabels(ns.Labels)
	if len(errs) == 0 && policy.privileged() {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return apierrors.NewBadRequest("failed to decode pod")
	}
	if a.Verb == "update" {
		old, ok := a.Old.(*corev1.Pod)
		if !ok {
			return apierrors.NewBadRequest("failed to decode old pod")
		}
		if !SignificantPodUpdate(pod, old) {
			return nil
		}
	}
	return p.evaluate(a, policy, errs, &pod.ObjectMeta, &pod.Spec, true)
}

func (p *Admission) admitWorkload(a *apiserver.Attributes) {
	if a.Subresource != "" {
		return
	}
	ns, err := p.Namespaces(a.Namespace)
	if err != nil {
		// Workloads are never refused by this plug-in, so a lookup
		// failure only loses the warning.
		p.annotate(a, ErrorAnnotation, fmt.Sprintf("failed to lookup namespace %s: %v", a.Namespace, err))
		return
	}
	policy, errs := PolicyFromLabels(ns.Labels)
	if len(errs) == 0 && policy.Audit.Level == LevelPrivileged && policy.Warn.Level == LevelPrivileged {
		return
	}
	meta, spec, ok := podTemplate(a.Object)
	if !ok {
		return
	}
	_ = p.evaluate(a, policy, errs, meta, spec, false)
}

// evaluate checks a pod or pod template against the namespace's modes,
// records audit annotations and warnings, and returns the enforce refusal
// when enforce is true and the pod violates that level.
func (p *Admission) evaluate(a *apiserver.Attributes, policy Policy, policyErrs field.ErrorList, meta *metav1.ObjectMeta, spec *corev1.PodSpec, enforce bool) error {
	if len(policyErrs) > 0 {
		p.annotate(a, ErrorAnnotation, "Failed to parse policy: "+policyErrs.ToAggregate().Error())
	}
	results := map[LevelVersion][]Violation{}
	eval := func(lv LevelVersion) []Violation {
		vs, ok := results[lv]
		if !ok {
			vs = Evaluate(lv, meta, spec)
			results[lv] = vs
		}
		return vs
	}
	var refusal error
	if enforce {
		p.annotate(a, EnforcePolicyAnnotation, policy.Enforce.String())
		if vs := eval(policy.Enforce); len(vs) > 0 {
			gr := schema.GroupResource{Group: a.Resource.Group, Resource: a.Resource.Resource}
			refusal = apierrors.NewForbidden(gr, a.Name, fmt.Errorf("violates PodSecurity %q: %s", policy.Enforce.String(), FormatDetail(vs)))
		}
	}
	if vs := eval(policy.Audit); len(vs) > 0 {
		p.annotate(a, AuditViolationsAnnotation, fmt.Sprintf("would violate PodSecurity %q: %s", policy.Audit.String(), FormatDetail(vs)))
	}
	// A refused request gets the error, not a warning repeating it.
	if refusal == nil {
		if vs := eval(policy.Warn); len(vs) > 0 {
			a.Warnings = append(a.Warnings, fmt.Sprintf("would violate PodSecurity %q: %s", policy.Warn.String(), FormatDetail(vs)))
		}
	}
	return refusal
}
