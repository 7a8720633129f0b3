package core

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// epTableMax is how many endpoints the ENDPOINTS column lists before
// summarising the rest.
const epTableMax = 3

// Endpoints returns the core/v1 endpoints resource.
func Endpoints() *registry.Resource {
	return &registry.Resource{
		Version:    "v1",
		Resource:   "endpoints",
		Kind:       "Endpoints",
		Singular:   "endpoints",
		ShortNames: []string{"ep"},
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.Endpoints{} },
		NewList:    func() runtime.Object { return &corev1.EndpointsList{} },
		Strategy:   epStrategy{},
	}
}

// epStrategy implements endpoints' behaviour.
type epStrategy struct {
	registry.DefaultStrategy
}

// Default sets port protocols to TCP.
func (epStrategy) Default(obj runtime.Object) {
	ep := obj.(*corev1.Endpoints)
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if ep.Subsets[i].Ports[j].Protocol == "" {
				ep.Subsets[i].Ports[j].Protocol = corev1.ProtocolTCP
			}
		}
	}
}

// Validate checks every subset's addresses and ports.
func (epStrategy) Validate(obj runtime.Object) field.ErrorList {
	ep := obj.(*corev1.Endpoints)
	var errs field.ErrorList
	subsets := field.NewPath("subsets")
	for i := range ep.Subsets {
		ss := &ep.Subsets[i]
		p := subsets.Index(i)
		// Headless services may have endpoints without ports, never without
		// addresses.
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(p, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j := range ss.Addresses {
			errs = append(errs, epValidateAddress(&ss.Addresses[j], p.Child("addresses").Index(j))...)
		}
		for j := range ss.NotReadyAddresses {
			errs = append(errs, epValidateAddress(&ss.NotReadyAddresses[j], p.Child("notReadyAddresses").Index(j))...)
		}
		for j := range ss.Ports {
			errs = append(errs, epValidatePort(&ss.Ports[j], len(ss.Ports) > 1, p.Child("ports").Index(j))...)
		}
	}
	return errs
}

// ValidateUpdate checks the updated endpoints like new ones.
func (s epStrategy) ValidateUpdate(obj, _ runtime.Object) field.ErrorList {
	return s.Validate(obj)
}

func epValidateAddress(a *corev1.EndpointAddress, p *field.Path) field.ErrorList {
	errs := validation.IsValidIP(p.Child("ip"), a.IP)
	if a.Hostname != "" {
		errs = append(errs, commonDNS1123Label(a.Hostname, p.Child("hostname"))...)
	}
	if a.NodeName != nil {
		errs = append(errs, commonMessages(p.Child("nodeName"), *a.NodeName, apivalidation.NameIsDNSSubdomain(*a.NodeName, false))...)
	}
	return append(errs, commonNonSpecialIP(a.IP, p.Child("ip"))...)
}

func epValidatePort(port *corev1.EndpointPort, requireName bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if requireName && port.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else if port.Name != "" {
		errs = append(errs, commonDNS1123Label(port.Name, p.Child("name"))...)
	}
	errs = append(errs, commonMessages(p.Child("port"), port.Port, validation.IsValidPortNum(int(port.Port)))...)
	if port.Protocol == "" {
		errs = append(errs, field.Required(p.Child("protocol"), ""))
	} else if !svcOneOf(string(port.Protocol), svcProtocols()) {
		errs = append(errs, field.NotSupported(p.Child("protocol"), port.Protocol, svcProtocols()))
	}
	if port.AppProtocol != nil {
		errs = append(errs, commonQualifiedName(*port.AppProtocol, p.Child("appProtocol"))...)
	}
	return errs
}

// TableColumns are kubectl's endpoints columns.
func (epStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
		commonAgeColumn(),
	}
}

// TableRow renders one endpoints object.
func (epStrategy) TableRow(obj runtime.Object) []interface{} {
	ep := obj.(*corev1.Endpoints)
	return []interface{}{ep.Name, epFormat(ep), commonAge(ep.CreationTimestamp)}
}

// epFormat lists ready "ip:port" pairs (bare IPs for port-less subsets),
// at most epTableMax of them followed by " + N more...".
func epFormat(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	var list []string
	count := 0
	add := func(s string) {
		if len(list) < epTableMax {
			list = append(list, s)
		}
		count++
	}
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, port := range ss.Ports {
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(port.Port))))
			}
		}
	}
	ret := strings.Join(list, ",")
	if count > epTableMax {
		return fmt.Sprintf("%s + %d more...", ret, count-epTableMax)
	}
	return ret
}
