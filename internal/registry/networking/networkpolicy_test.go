package networking

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func validPolicy() *networkingv1.NetworkPolicy {
	port := intstr.FromInt32(80)
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow", Namespace: "default"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}},
			}},
		},
	}
}

func TestNetworkPolicyResource(t *testing.T) {
	r := NetworkPolicies()
	if r.Resource != "networkpolicies" || !r.Namespaced || !reflect.DeepEqual(r.ShortNames, []string{"netpol"}) {
		t.Errorf("unexpected identity %+v", r)
	}
}

func TestNetworkPolicyDefault(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*networkingv1.NetworkPolicy)
		want   []networkingv1.PolicyType
	}{
		{name: "ingress only", mutate: func(*networkingv1.NetworkPolicy) {}, want: []networkingv1.PolicyType{"Ingress"}},
		{name: "with egress", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{}}}}
		}, want: []networkingv1.PolicyType{"Ingress", "Egress"}},
		{name: "explicit kept", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.PolicyTypes = []networkingv1.PolicyType{"Egress"}
		}, want: []networkingv1.PolicyType{"Egress"}},
	}
	s := networkPolicyStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validPolicy()
			tc.mutate(p)
			s.Default(p)
			s.Default(p) // idempotent
			if !reflect.DeepEqual(p.Spec.PolicyTypes, tc.want) {
				t.Errorf("policyTypes %v, want %v", p.Spec.PolicyTypes, tc.want)
			}
			if got := p.Spec.Ingress[0].Ports[0].Protocol; got == nil || *got != corev1.ProtocolTCP {
				t.Errorf("ingress port protocol %v", got)
			}
			for _, r := range p.Spec.Egress {
				if r.Ports[0].Protocol == nil || *r.Ports[0].Protocol != corev1.ProtocolTCP {
					t.Errorf("egress port protocol %v", r.Ports[0].Protocol)
				}
			}
		})
	}
}

func TestNetworkPolicyValidate(t *testing.T) {
	named := intstr.FromString("http")
	badName := intstr.FromString("HTTP_X")
	cases := []struct {
		name   string
		mutate func(*networkingv1.NetworkPolicy)
		want   []string
		detail string
	}{
		{name: "valid", mutate: func(*networkingv1.NetworkPolicy) {}},
		{name: "bad pod selector", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.PodSelector.MatchLabels = map[string]string{"app": "-bad-"}
		}, want: []string{invalid + "spec.podSelector.matchLabels"}},
		{name: "empty peer", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{}}
		}, want: []string{required + "spec.ingress[0].from[0]"}, detail: "must specify a peer"},
		{name: "pod and namespace selector together", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From[0].NamespaceSelector = &metav1.LabelSelector{}
		}},
		{name: "ipBlock with selector", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From[0].IPBlock = &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}
		}, want: []string{forbidden + "spec.ingress[0].from[0]"}, detail: "may not specify both ipBlock and another peer"},
		{name: "ipBlock valid", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}}}}
		}},
		{name: "ipBlock cidr missing", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{}}}}}
		}, want: []string{required + "spec.egress[0].to[0].ipBlock.cidr"}},
		{name: "ipBlock cidr invalid", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.1"}}}}}
		}, want: []string{invalid + "spec.egress[0].to[0].ipBlock.cidr"}},
		{name: "ipBlock host bits set", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.1/8"}}}}}
		}, want: []string{invalid + "spec.egress[0].to[0].ipBlock.cidr"}},
		{name: "except outside cidr", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/16", Except: []string{"192.168.0.0/24", "10.0.0.0/16", "bogus"}}}}}}
		}, want: []string{invalid + "spec.egress[0].to[0].ipBlock.except[0]", invalid + "spec.egress[0].to[0].ipBlock.except[1]", invalid + "spec.egress[0].to[0].ipBlock.except[2]"},
			detail: "must be a strict subset of `cidr`"},
		{name: "port out of range", mutate: func(p *networkingv1.NetworkPolicy) {
			big := intstr.FromInt32(70000)
			p.Spec.Ingress[0].Ports[0].Port = &big
		}, want: []string{invalid + "spec.ingress[0].ports[0].port"}},
		{name: "bad protocol", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].Ports[0].Protocol = ptr.To(corev1.Protocol("ICMP"))
		}, want: []string{notSupported + "spec.ingress[0].ports[0].protocol"}},
		{name: "endPort below port", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].Ports[0].EndPort = ptr.To[int32](79)
		}, want: []string{invalid + "spec.ingress[0].ports[0].endPort"}, detail: "must be greater than or equal to `port`"},
		{name: "endPort range", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].Ports[0].EndPort = ptr.To[int32](90)
		}},
		{name: "endPort with named port", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].Ports[0].Port = &named
			p.Spec.Ingress[0].Ports[0].EndPort = ptr.To[int32](90)
		}, want: []string{invalid + "spec.ingress[0].ports[0].endPort"}, detail: "non-numeric"},
		{name: "endPort without port", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].Ports[0].Port = nil
			p.Spec.Ingress[0].Ports[0].EndPort = ptr.To[int32](90)
		}, want: []string{invalid + "spec.ingress[0].ports[0].endPort"}, detail: "not specified"},
		{name: "bad port name", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].Ports[0].Port = &badName
		}, want: []string{invalid + "spec.ingress[0].ports[0].port", invalid + "spec.ingress[0].ports[0].port"}},
		{name: "bad policy type", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.PolicyTypes = []networkingv1.PolicyType{"Ingress", "Sideways"}
		}, want: []string{notSupported + "spec.policyTypes[1]"}},
		{name: "too many policy types", mutate: func(p *networkingv1.NetworkPolicy) {
			p.Spec.PolicyTypes = []networkingv1.PolicyType{"Ingress", "Egress", "Ingress"}
		}, want: []string{invalid + "spec.policyTypes"}},
	}
	s := networkPolicyStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validPolicy()
			tc.mutate(p)
			s.Default(p)
			errs := s.Validate(p)
			checkErrs(t, errs, tc.want)
			if tc.detail != "" {
				checkDetail(t, errs, wantField(tc.want[0]), tc.detail)
			}
		})
	}
}

func TestNetworkPolicyUpdateKeepsStoredCIDR(t *testing.T) {
	s := networkPolicyStrategy{now: fixedClock}
	legacy := func() *networkingv1.NetworkPolicy {
		p := validPolicy()
		p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.1/8"}}}}}
		s.Default(p)
		return p
	}
	old, cur := legacy(), legacy()
	cur.Labels = map[string]string{"touched": "yes"}
	checkErrs(t, s.ValidateUpdate(cur, old), nil)
	cur.Spec.Egress[0].To[0].IPBlock.CIDR = "10.0.0.2/8"
	checkErrs(t, s.ValidateUpdate(cur, old), []string{invalid + "spec.egress[0].to[0].ipBlock.cidr"})
}

func TestNetworkPolicyTable(t *testing.T) {
	s := networkPolicyStrategy{now: fixedClock}
	var names []string
	for _, c := range s.TableColumns() {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"Name", "Pod-Selector", "Age"}) {
		t.Fatalf("columns %v", names)
	}
	p := validPolicy()
	p.CreationTimestamp = createdAgo(10 * time.Minute)
	if got, want := s.TableRow(p), []interface{}{"allow", "app=web", "10m"}; !reflect.DeepEqual(got, want) {
		t.Errorf("row %v, want %v", got, want)
	}
	p.Spec.PodSelector = metav1.LabelSelector{}
	if got := s.TableRow(p)[1]; got != "<none>" {
		t.Errorf("empty selector cell %v", got)
	}
}
