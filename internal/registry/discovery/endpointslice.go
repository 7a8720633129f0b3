package discovery

import (
	"fmt"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/skiff-io/skiff/internal/registry"
)

const (
	maxEndpoints      = 1000
	maxAddresses      = 100
	maxPorts          = 20000
	maxTopologyLabels = 16
	maxHints          = 8
)

var (
	supportedAddressTypes = []string{
		string(discoveryv1.AddressTypeFQDN),
		string(discoveryv1.AddressTypeIPv4),
		string(discoveryv1.AddressTypeIPv6),
	}
	supportedPortProtocols = []string{string(corev1.ProtocolSCTP), string(corev1.ProtocolTCP), string(corev1.ProtocolUDP)}
)

// EndpointSlices returns the namespaced discovery.k8s.io/v1 EndpointSlice
// resource. Port names default to "" and protocols to TCP; addressType
// (IPv4, IPv6 or FQDN) is required and immutable, and every address must be
// of that type.
func EndpointSlices() *registry.Resource {
	return &registry.Resource{
		Group:      groupName,
		Version:    "v1",
		Resource:   "endpointslices",
		Kind:       "EndpointSlice",
		Singular:   "endpointslice",
		Namespaced: true,
		New:        func() runtime.Object { return &discoveryv1.EndpointSlice{} },
		NewList:    func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
		Strategy:   endpointSliceStrategy{now: time.Now},
	}
}

type endpointSliceStrategy struct {
	registry.DefaultStrategy
	now clock
}

var _ registry.TableConvertor = endpointSliceStrategy{}

func (endpointSliceStrategy) Default(obj runtime.Object) {
	es, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return
	}
	for i := range es.Ports {
		p := &es.Ports[i]
		if p.Name == nil {
			name := ""
			p.Name = &name
		}
		if p.Protocol == nil {
			tcp := corev1.ProtocolTCP
			p.Protocol = &tcp
		}
	}
}

// PrepareForCreate starts the generation at 1: EndpointSlices have no spec
// but Kubernetes tracks their generation all the same.
func (endpointSliceStrategy) PrepareForCreate(obj runtime.Object) {
	if es, ok := obj.(*discoveryv1.EndpointSlice); ok {
		es.Generation = 1
	}
}

// PrepareForUpdate bumps the generation when anything but metadata changes,
// or the labels do (they decide which Service the slice belongs to).
func (endpointSliceStrategy) PrepareForUpdate(obj, old runtime.Object) {
	es, ok1 := obj.(*discoveryv1.EndpointSlice)
	prev, ok2 := old.(*discoveryv1.EndpointSlice)
	if !ok1 || !ok2 {
		return
	}
	changed := es.AddressType != prev.AddressType ||
		!apiequality.Semantic.DeepEqual(es.Endpoints, prev.Endpoints) ||
		!apiequality.Semantic.DeepEqual(es.Ports, prev.Ports) ||
		!apiequality.Semantic.DeepEqual(es.Labels, prev.Labels)
	if changed {
		es.Generation = prev.Generation + 1
	}
}

func (endpointSliceStrategy) Validate(obj runtime.Object) field.ErrorList {
	es, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return wrongType(obj)
	}
	return validateEndpointSlice(es)
}

func (endpointSliceStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	es, ok1 := obj.(*discoveryv1.EndpointSlice)
	prev, ok2 := old.(*discoveryv1.EndpointSlice)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	errs := validateEndpointSlice(es)
	return append(errs, apivalidation.ValidateImmutableField(es.AddressType, prev.AddressType, field.NewPath("addressType"))...)
}

func validateEndpointSlice(es *discoveryv1.EndpointSlice) field.ErrorList {
	var errs field.ErrorList
	tp := field.NewPath("addressType")
	switch {
	case es.AddressType == "":
		errs = append(errs, field.Required(tp, ""))
	case !contains(supportedAddressTypes, string(es.AddressType)):
		errs = append(errs, field.NotSupported(tp, es.AddressType, supportedAddressTypes))
	}
	errs = append(errs, validateEndpoints(es.Endpoints, es.AddressType, field.NewPath("endpoints"))...)
	return append(errs, validatePorts(es.Ports, field.NewPath("ports"))...)
}

func validateEndpoints(endpoints []discoveryv1.Endpoint, addrType discoveryv1.AddressType, p *field.Path) field.ErrorList {
	if len(endpoints) > maxEndpoints {
		return field.ErrorList{field.TooMany(p, len(endpoints), maxEndpoints)}
	}
	var errs field.ErrorList
	for i := range endpoints {
		ep := &endpoints[i]
		ip := p.Index(i)
		ap := ip.Child("addresses")
		switch {
		case len(ep.Addresses) == 0:
			errs = append(errs, field.Required(ap, "must contain at least 1 address"))
		case len(ep.Addresses) > maxAddresses:
			errs = append(errs, field.TooMany(ap, len(ep.Addresses), maxAddresses))
		}
		for j, addr := range ep.Addresses {
			errs = append(errs, validateAddress(addr, addrType, ap.Index(j))...)
		}
		if ep.NodeName != nil {
			for _, msg := range apivalidation.NameIsDNSSubdomain(*ep.NodeName, false) {
				errs = append(errs, field.Invalid(ip.Child("nodeName"), *ep.NodeName, msg))
			}
		}
		topo := ip.Child("deprecatedTopology")
		if len(ep.DeprecatedTopology) > maxTopologyLabels {
			errs = append(errs, field.TooMany(topo, len(ep.DeprecatedTopology), maxTopologyLabels))
		}
		errs = append(errs, metavalidation.ValidateLabels(ep.DeprecatedTopology, topo)...)
		if ep.Hostname != nil {
			for _, msg := range validation.IsDNS1123Label(*ep.Hostname) {
				errs = append(errs, field.Invalid(ip.Child("hostname"), *ep.Hostname, msg))
			}
		}
		if ep.Hints != nil {
			errs = append(errs, validateHints(ep.Hints, ip.Child("hints"))...)
		}
	}
	return errs
}

// validateAddress checks one endpoint address against the slice's type.
// Unspecified, loopback and link-local IPs are refused: traffic sent there
// would never reach the intended backend.
func validateAddress(addr string, addrType discoveryv1.AddressType, p *field.Path) field.ErrorList {
	switch addrType {
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
		errs := validation.IsValidIPForLegacyField(p, addr, true, nil)
		if len(errs) > 0 {
			return errs
		}
		ip := netutils.ParseIPSloppy(addr)
		if addrType == discoveryv1.AddressTypeIPv4 && !netutils.IsIPv4(ip) {
			errs = append(errs, field.Invalid(p, addr, "must be a valid IPv4 address"))
		}
		if addrType == discoveryv1.AddressTypeIPv6 && !netutils.IsIPv6(ip) {
			errs = append(errs, field.Invalid(p, addr, "must be a valid IPv6 address"))
		}
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
	case discoveryv1.AddressTypeFQDN:
		return validation.IsFullyQualifiedDomainName(p, addr)
	}
	return nil
}

func validateHints(h *discoveryv1.EndpointHints, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	zp := p.Child("forZones")
	if len(h.ForZones) > maxHints {
		errs = append(errs, field.TooMany(zp, len(h.ForZones), maxHints))
	} else {
		seen := map[string]bool{}
		for i, z := range h.ForZones {
			np := zp.Index(i).Child("name")
			if seen[z.Name] {
				errs = append(errs, field.Duplicate(np, z.Name))
			}
			seen[z.Name] = true
			for _, msg := range validation.IsValidLabelValue(z.Name) {
				errs = append(errs, field.Invalid(np, z.Name, msg))
			}
		}
	}
	np := p.Child("forNodes")
	if len(h.ForNodes) > maxHints {
		return append(errs, field.TooMany(np, len(h.ForNodes), maxHints))
	}
	seen := map[string]bool{}
	for i, n := range h.ForNodes {
		fp := np.Index(i).Child("name")
		if seen[n.Name] {
			errs = append(errs, field.Duplicate(fp, n.Name))
		}
		seen[n.Name] = true
		for _, msg := range apivalidation.NameIsDNSSubdomain(n.Name, false) {
			errs = append(errs, field.Invalid(fp, n.Name, msg))
		}
	}
	return errs
}

func validatePorts(ports []discoveryv1.EndpointPort, p *field.Path) field.ErrorList {
	if len(ports) > maxPorts {
		return field.ErrorList{field.TooMany(p, len(ports), maxPorts)}
	}
	var errs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		ip := p.Index(i)
		name := ""
		if port.Name != nil {
			name = *port.Name
		}
		if name != "" {
			for _, msg := range validation.IsDNS1123Label(name) {
				errs = append(errs, field.Invalid(ip.Child("name"), name, msg))
			}
		}
		if names[name] {
			errs = append(errs, field.Duplicate(ip.Child("name"), name))
		}
		names[name] = true
		switch {
		case port.Protocol == nil:
			errs = append(errs, field.Required(ip.Child("protocol"), ""))
		case !contains(supportedPortProtocols, string(*port.Protocol)):
			errs = append(errs, field.NotSupported(ip.Child("protocol"), *port.Protocol, supportedPortProtocols))
		}
		if port.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*port.AppProtocol) {
				errs = append(errs, field.Invalid(ip.Child("appProtocol"), *port.AppProtocol, msg))
			}
		}
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (endpointSliceStrategy) TableColumns() []metav1.TableColumnDefinition {
	doc := discoveryv1.EndpointSlice{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "AddressType", Type: "string", Description: doc["addressType"]},
		{Name: "Ports", Type: "string", Description: doc["ports"]},
		{Name: "Endpoints", Type: "string", Description: doc["endpoints"]},
		ageColumn(),
	}
}

func (s endpointSliceStrategy) TableRow(obj runtime.Object) []interface{} {
	es, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil
	}
	var ports, addrs []string
	for _, p := range es.Ports {
		switch {
		case p.Port != nil:
			ports = append(ports, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			ports = append(ports, *p.Name)
		default:
			ports = append(ports, "*")
		}
	}
	for _, ep := range es.Endpoints {
		addrs = append(addrs, ep.Addresses...)
	}
	return []interface{}{es.Name, string(es.AddressType), firstThree(ports), firstThree(addrs), age(es.CreationTimestamp, s.now())}
}

// firstThree joins at most three items, noting how many were left out, and
// prints "<unset>" for none.
func firstThree(items []string) string {
	const shown = 3
	if len(items) == 0 {
		return "<unset>"
	}
	if len(items) <= shown {
		return strings.Join(items, ",")
	}
	return fmt.Sprintf("%s + %d more...", strings.Join(items[:shown], ","), len(items)-shown)
}
