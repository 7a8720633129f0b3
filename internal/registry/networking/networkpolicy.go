package networking

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/skiff-io/skiff/internal/registry"
)

// NetworkPolicies returns the networking.k8s.io/v1 NetworkPolicy resource.
// policyTypes defaults to [Ingress], plus Egress when egress rules are
// present; port protocols default to TCP.
func NetworkPolicies() *registry.Resource {
	return &registry.Resource{
		Group:      groupName,
		Version:    "v1",
		Resource:   "networkpolicies",
		Kind:       "NetworkPolicy",
		Singular:   "networkpolicy",
		ShortNames: []string{"netpol"},
		Namespaced: true,
		New:        func() runtime.Object { return &networkingv1.NetworkPolicy{} },
		NewList:    func() runtime.Object { return &networkingv1.NetworkPolicyList{} },
		Strategy:   networkPolicyStrategy{now: time.Now},
	}
}

type networkPolicyStrategy struct {
	registry.DefaultStrategy
	now clock
}

var _ registry.TableConvertor = networkPolicyStrategy{}

func (networkPolicyStrategy) Default(obj runtime.Object) {
	np, ok := obj.(*networkingv1.NetworkPolicy)
	if !ok {
		return
	}
	spec := &np.Spec
	if len(spec.PolicyTypes) == 0 {
		spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(spec.Egress) > 0 {
			spec.PolicyTypes = append(spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
	for i := range spec.Ingress {
		defaultPolicyPorts(spec.Ingress[i].Ports)
	}
	for i := range spec.Egress {
		defaultPolicyPorts(spec.Egress[i].Ports)
	}
}

func defaultPolicyPorts(ports []networkingv1.NetworkPolicyPort) {
	for i := range ports {
		if ports[i].Protocol == nil {
			tcp := corev1.ProtocolTCP
			ports[i].Protocol = &tcp
		}
	}
}

func (networkPolicyStrategy) Validate(obj runtime.Object) field.ErrorList {
	np, ok := obj.(*networkingv1.NetworkPolicy)
	if !ok {
		return wrongType(obj)
	}
	return validateNetworkPolicySpec(&np.Spec, policyOptions{}, field.NewPath("spec"))
}

func (networkPolicyStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	np, ok1 := obj.(*networkingv1.NetworkPolicy)
	prev, ok2 := old.(*networkingv1.NetworkPolicy)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	// CIDRs and selectors already stored stay acceptable even if today's
	// stricter parsing rejects them, so that such policies can be edited.
	opts := policyOptions{oldCIDRs: policyCIDRs(&prev.Spec)}
	opts.selectorOpts.AllowInvalidLabelValueInSelector =
		len(metavalidation.ValidateLabelSelector(&prev.Spec.PodSelector, metavalidation.LabelSelectorValidationOptions{}, nil)) > 0
	return validateNetworkPolicySpec(&np.Spec, opts, field.NewPath("spec"))
}

type policyOptions struct {
	selectorOpts metavalidation.LabelSelectorValidationOptions
	oldCIDRs     []string
}

func policyCIDRs(spec *networkingv1.NetworkPolicySpec) []string {
	var cidrs []string
	add := func(peers []networkingv1.NetworkPolicyPeer) {
		for _, peer := range peers {
			if peer.IPBlock != nil {
				cidrs = append(cidrs, peer.IPBlock.CIDR)
				cidrs = append(cidrs, peer.IPBlock.Except...)
			}
		}
	}
	for _, r := range spec.Ingress {
		add(r.From)
	}
	for _, r := range spec.Egress {
		add(r.To)
	}
	return cidrs
}

func validateNetworkPolicySpec(spec *networkingv1.NetworkPolicySpec, opts policyOptions, p *field.Path) field.ErrorList {
	errs := metavalidation.ValidateLabelSelector(&spec.PodSelector, opts.selectorOpts, p.Child("podSelector"))
	for i, rule := range spec.Ingress {
		rp := p.Child("ingress").Index(i)
		errs = append(errs, validatePolicyPorts(rule.Ports, rp.Child("ports"))...)
		for j := range rule.From {
			errs = append(errs, validatePolicyPeer(&rule.From[j], opts, rp.Child("from").Index(j))...)
		}
	}
	for i, rule := range spec.Egress {
		rp := p.Child("egress").Index(i)
		errs = append(errs, validatePolicyPorts(rule.Ports, rp.Child("ports"))...)
		for j := range rule.To {
			errs = append(errs, validatePolicyPeer(&rule.To[j], opts, rp.Child("to").Index(j))...)
		}
	}
	tp := p.Child("policyTypes")
	if len(spec.PolicyTypes) > 2 {
		return append(errs, field.Invalid(tp, spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	for i, t := range spec.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			errs = append(errs, field.NotSupported(tp.Index(i), t, []string{string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress)}))
		}
	}
	return errs
}

func validatePolicyPorts(ports []networkingv1.NetworkPolicyPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range ports {
		errs = append(errs, validatePolicyPort(&ports[i], p.Index(i))...)
	}
	return errs
}

func validatePolicyPort(port *networkingv1.NetworkPolicyPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if proto := port.Protocol; proto != nil && *proto != corev1.ProtocolTCP && *proto != corev1.ProtocolUDP && *proto != corev1.ProtocolSCTP {
		errs = append(errs, field.NotSupported(p.Child("protocol"), *proto,
			[]string{string(corev1.ProtocolTCP), string(corev1.ProtocolUDP), string(corev1.ProtocolSCTP)}))
	}
	switch {
	case port.Port == nil:
		if port.EndPort != nil {
			errs = append(errs, field.Invalid(p.Child("endPort"), *port.EndPort, "may not be specified when `port` is not specified"))
		}
	case port.Port.Type == intstr.Int:
		for _, msg := range validation.IsValidPortNum(int(port.Port.IntVal)) {
			errs = append(errs, field.Invalid(p.Child("port"), port.Port.IntVal, msg))
		}
		if port.EndPort != nil {
			if *port.EndPort < port.Port.IntVal {
				errs = append(errs, field.Invalid(p.Child("endPort"), *port.EndPort, "must be greater than or equal to `port`"))
			}
			for _, msg := range validation.IsValidPortNum(int(*port.EndPort)) {
				errs = append(errs, field.Invalid(p.Child("endPort"), *port.EndPort, msg))
			}
		}
	default:
		if port.EndPort != nil {
			errs = append(errs, field.Invalid(p.Child("endPort"), *port.EndPort, "may not be specified when `port` is non-numeric"))
		}
		for _, msg := range validation.IsValidPortName(port.Port.StrVal) {
			errs = append(errs, field.Invalid(p.Child("port"), port.Port.StrVal, msg))
		}
	}
	return errs
}

// validatePolicyPeer requires a peer to name pods/namespaces by selector or
// addresses by ipBlock; selectors may be combined, ipBlock may not.
func validatePolicyPeer(peer *networkingv1.NetworkPolicyPeer, opts policyOptions, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if peer.PodSelector != nil {
		n++
		errs = append(errs, metavalidation.ValidateLabelSelector(peer.PodSelector, opts.selectorOpts, p.Child("podSelector"))...)
	}
	if peer.NamespaceSelector != nil {
		n++
		errs = append(errs, metavalidation.ValidateLabelSelector(peer.NamespaceSelector, opts.selectorOpts, p.Child("namespaceSelector"))...)
	}
	if peer.IPBlock != nil {
		n++
		errs = append(errs, validateIPBlock(peer.IPBlock, opts.oldCIDRs, p.Child("ipBlock"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(p, "must specify a peer"))
	case n > 1 && peer.IPBlock != nil:
		errs = append(errs, field.Forbidden(p, "may not specify both ipBlock and another peer"))
	}
	return errs
}

func validateIPBlock(b *networkingv1.IPBlock, oldCIDRs []string, p *field.Path) field.ErrorList {
	cp := p.Child("cidr")
	if b.CIDR == "" {
		return field.ErrorList{field.Required(cp, "")}
	}
	errs := validation.IsValidCIDRForLegacyField(cp, b.CIDR, true, oldCIDRs)
	_, outer, err := netutils.ParseCIDRSloppy(b.CIDR)
	if err != nil {
		return errs
	}
	outerBits, _ := outer.Mask.Size()
	for i, ex := range b.Except {
		ep := p.Child("except").Index(i)
		errs = append(errs, validation.IsValidCIDRForLegacyField(ep, ex, true, oldCIDRs)...)
		_, inner, err := netutils.ParseCIDRSloppy(ex)
		if err != nil {
			continue
		}
		innerBits, _ := inner.Mask.Size()
		if !outer.Contains(inner.IP) || outerBits >= innerBits {
			errs = append(errs, field.Invalid(ep, ex, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

func (networkPolicyStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "Pod-Selector", Type: "string", Description: networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]},
		ageColumn(),
	}
}

func (s networkPolicyStrategy) TableRow(obj runtime.Object) []interface{} {
	np, ok := obj.(*networkingv1.NetworkPolicy)
	if !ok {
		return nil
	}
	return []interface{}{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), age(np.CreationTimestamp, s.now())}
}
