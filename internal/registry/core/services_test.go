package core

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/skiff-io/skiff/internal/registry"
)

func svcTestStrategy() svcStrategy { return Services().Strategy.(svcStrategy) }

func svcTest(mut func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
	if mut != nil {
		mut(svc)
	}
	return svc
}

// svcCreate runs the create pipeline and returns the validation errors.
func svcCreate(svc *corev1.Service) []string {
	s := svcTestStrategy()
	s.Default(svc)
	s.PrepareForCreate(svc)
	return commonErrKeys(s.Validate(svc))
}

func TestServicesResource(t *testing.T) {
	r := Services()
	if r.Resource != "services" || r.Kind != "Service" || !r.Namespaced || r.ShortNames[0] != "svc" || r.Categories[0] != "all" {
		t.Errorf("unexpected resource %+v", r)
	}
	if !r.HasSubresource("status") {
		t.Error("services must serve status")
	}
	if msgs := r.ValidateName("1web", false); len(msgs) == 0 {
		t.Error("service names must be DNS-1035 labels")
	}
	var _ registry.StatusStrategy = svcStrategy{}
	var _ registry.FieldSelectable = svcStrategy{}
	if _, ok := r.New().(*corev1.Service); !ok {
		t.Error("New must return *Service")
	}
}

func TestServiceDefault(t *testing.T) {
	cases := []struct {
		name  string
		in    *corev1.Service
		check func(*testing.T, *corev1.Service)
	}{
		{"cluster ip defaults", svcTest(nil), func(t *testing.T, s *corev1.Service) {
			if s.Spec.Type != corev1.ServiceTypeClusterIP || s.Spec.SessionAffinity != corev1.ServiceAffinityNone {
				t.Errorf("type/affinity = %q/%q", s.Spec.Type, s.Spec.SessionAffinity)
			}
			p := s.Spec.Ports[0]
			if p.Protocol != corev1.ProtocolTCP || p.TargetPort != intstr.FromInt32(80) {
				t.Errorf("port defaults = %+v", p)
			}
			if s.Spec.InternalTrafficPolicy == nil || *s.Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyCluster {
				t.Error("internalTrafficPolicy not defaulted")
			}
			if s.Spec.ExternalTrafficPolicy != "" || s.Spec.AllocateLoadBalancerNodePorts != nil {
				t.Error("cluster IP service must not get external traffic defaults")
			}
		}},
		{"named target port kept", svcTest(func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("http") }),
			func(t *testing.T, s *corev1.Service) {
				if s.Spec.Ports[0].TargetPort != intstr.FromString("http") {
					t.Errorf("targetPort = %v", s.Spec.Ports[0].TargetPort)
				}
			}},
		{"load balancer", svcTest(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer }),
			func(t *testing.T, s *corev1.Service) {
				if s.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster {
					t.Errorf("externalTrafficPolicy = %q", s.Spec.ExternalTrafficPolicy)
				}
				if s.Spec.AllocateLoadBalancerNodePorts == nil || !*s.Spec.AllocateLoadBalancerNodePorts {
					t.Error("allocateLoadBalancerNodePorts not defaulted to true")
				}
			}},
		{"client ip affinity timeout", svcTest(func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }),
			func(t *testing.T, s *corev1.Service) {
				c := s.Spec.SessionAffinityConfig
				if c == nil || c.ClientIP == nil || *c.ClientIP.TimeoutSeconds != 10800 {
					t.Errorf("affinity config = %+v", c)
				}
			}},
		{"external name has no internal policy", svcTest(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "example.com"
		}), func(t *testing.T, s *corev1.Service) {
			if s.Spec.InternalTrafficPolicy != nil {
				t.Error("ExternalName got internalTrafficPolicy")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svcTestStrategy().Default(c.in)
			c.check(t, c.in)
			again := c.in.DeepCopy()
			svcTestStrategy().Default(again)
			if !reflect.DeepEqual(again, c.in) {
				t.Error("Default is not idempotent")
			}
		})
	}
}

func TestServicePrepareForCreate(t *testing.T) {
	cases := []struct {
		name     string
		in       *corev1.Service
		ips      []string
		policy   corev1.IPFamilyPolicy
		families []corev1.IPFamily
	}{
		{"to allocate", svcTest(nil), nil, corev1.IPFamilyPolicySingleStack, []corev1.IPFamily{corev1.IPv4Protocol}},
		{"singular ip", svcTest(func(s *corev1.Service) { s.Spec.ClusterIP = "10.0.0.9" }), []string{"10.0.0.9"},
			corev1.IPFamilyPolicySingleStack, []corev1.IPFamily{corev1.IPv4Protocol}},
		{"headless with selector", svcTest(func(s *corev1.Service) { s.Spec.ClusterIP = "None" }), []string{"None"},
			corev1.IPFamilyPolicySingleStack, []corev1.IPFamily{corev1.IPv4Protocol}},
		{"headless without selector", svcTest(func(s *corev1.Service) { s.Spec.ClusterIP = "None"; s.Spec.Selector = nil }), []string{"None"},
			corev1.IPFamilyPolicyRequireDualStack, []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}
			if errs := svcCreate(c.in); len(errs) != 0 {
				t.Fatalf("unexpected errors %v", errs)
			}
			if len(c.in.Status.LoadBalancer.Ingress) != 0 {
				t.Error("status not cleared")
			}
			if !reflect.DeepEqual(c.in.Spec.ClusterIPs, c.ips) {
				t.Errorf("clusterIPs = %v, want %v", c.in.Spec.ClusterIPs, c.ips)
			}
			if *c.in.Spec.IPFamilyPolicy != c.policy || !reflect.DeepEqual(c.in.Spec.IPFamilies, c.families) {
				t.Errorf("families = %v/%v, want %v/%v", *c.in.Spec.IPFamilyPolicy, c.in.Spec.IPFamilies, c.policy, c.families)
			}
		})
	}
	ext := svcTest(func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeExternalName
		s.Spec.ExternalName = "db.example.com."
	})
	if errs := svcCreate(ext); len(errs) != 0 || ext.Spec.IPFamilyPolicy != nil || ext.Spec.IPFamilies != nil {
		t.Errorf("ExternalName: errs %v policy %v families %v", errs, ext.Spec.IPFamilyPolicy, ext.Spec.IPFamilies)
	}
}

func TestServiceValidate(t *testing.T) {
	cases := []struct {
		name string
		mut  func(*corev1.Service)
		want []string
	}{
		{"valid", nil, nil},
		{"no ports", func(s *corev1.Service) { s.Spec.Ports = nil }, []string{"FieldValueRequired spec.ports"}},
		{"headless needs no ports", func(s *corev1.Service) { s.Spec.Ports = nil; s.Spec.ClusterIP = "None" }, nil},
		{"two ports need names", func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Port: 80}, {Name: "b", Port: 81}}
		}, []string{"FieldValueRequired spec.ports[0].name"}},
		{"duplicate names", func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 80}, {Name: "a", Port: 81}}
		}, []string{"FieldValueDuplicate spec.ports[1].name"}},
		{"bad name", func(s *corev1.Service) { s.Spec.Ports[0].Name = "HTTP" }, []string{"FieldValueInvalid spec.ports[0].name"}},
		{"port range", func(s *corev1.Service) { s.Spec.Ports[0].Port = 70000 },
			[]string{"FieldValueInvalid spec.ports[0].port", "FieldValueInvalid spec.ports[0].targetPort"}},
		{"bad protocol", func(s *corev1.Service) { s.Spec.Ports[0].Protocol = "ICMP" }, []string{"FieldValueNotSupported spec.ports[0].protocol"}},
		{"bad target port name", func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("not_valid") },
			[]string{"FieldValueInvalid spec.ports[0].targetPort"}},
		{"duplicate port", func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 80}, {Name: "b", Port: 80}}
		}, []string{"FieldValueDuplicate spec.ports[1]"}},
		{"same port other protocol", func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 53}, {Name: "b", Port: 53, Protocol: corev1.ProtocolUDP}}
		}, nil},
		{"bad type", func(s *corev1.Service) { s.Spec.Type = "Magic" }, []string{"FieldValueNotSupported spec.type"}},
		{"external name required", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName },
			[]string{"FieldValueRequired spec.externalName"}},
		{"external name dns", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "Not A Name"
		}, []string{"FieldValueInvalid spec.externalName"}},
		{"external name with cluster ip", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "example.com"
			s.Spec.ClusterIP = "10.0.0.1"
		}, []string{"FieldValueForbidden spec.clusterIPs"}},
		{"bad cluster ip", func(s *corev1.Service) { s.Spec.ClusterIP = "10.0.0.300" }, []string{"FieldValueInvalid spec.clusterIPs[0]"}},
		{"ipv6 on ipv4 cluster", func(s *corev1.Service) { s.Spec.ClusterIP = "fd00::1" }, []string{"FieldValueInvalid spec.clusterIPs[0]"}},
		{"node port on cluster ip", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30001 },
			[]string{"FieldValueForbidden spec.ports[0].nodePort"}},
		{"headless node port", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort; s.Spec.ClusterIP = "None" },
			[]string{"FieldValueInvalid spec.clusterIPs[0]"}},
		{"lb kubelet port", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer; s.Spec.Ports[0].Port = 10250 },
			[]string{"FieldValueInvalid spec.ports[0]"}},
		{"duplicate node port", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 80, NodePort: 30080}, {Name: "b", Port: 81, NodePort: 30080}}
		}, []string{"FieldValueDuplicate spec.ports[1].nodePort"}},
		{"bad selector", func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "no spaces"} },
			[]string{"FieldValueInvalid spec.selector"}},
		{"external ip loopback", func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"127.0.0.1"} },
			[]string{"FieldValueInvalid spec.externalIPs[0]"}},
		{"external traffic policy on cluster ip", func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = "Local" },
			[]string{"FieldValueInvalid spec.externalTrafficPolicy"}},
		{"health check node port without local", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.HealthCheckNodePort = 30100
		}, []string{"FieldValueInvalid spec.healthCheckNodePort"}},
		{"source ranges need lb", func(s *corev1.Service) { s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/8"} },
			[]string{"FieldValueForbidden spec.LoadBalancerSourceRanges"}},
		{"affinity timeout", func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			tm := int32(100000)
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &tm}}
		}, []string{"FieldValueInvalid spec.sessionAffinityConfig.clientIP.timeoutSeconds"}},
		{"require dual stack on single stack cluster", func(s *corev1.Service) {
			p := corev1.IPFamilyPolicyRequireDualStack
			s.Spec.IPFamilyPolicy = &p
		}, []string{"FieldValueInvalid spec.ipFamilyPolicy"}},
		{"lb class on cluster ip", func(s *corev1.Service) { c := "example.com/lb"; s.Spec.LoadBalancerClass = &c },
			[]string{"FieldValueForbidden spec.loadBalancerClass"}},
		{"bad traffic distribution", func(s *corev1.Service) { d := "Anywhere"; s.Spec.TrafficDistribution = &d },
			[]string{"FieldValueNotSupported spec.trafficDistribution"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := svcCreate(svcTest(c.mut))
			if !reflect.DeepEqual(got, append([]string(nil), c.want...)) && !(len(got) == 0 && len(c.want) == 0) {
				t.Errorf("errors = %v, want %v", got, c.want)
			}
		})
	}
}

func TestServiceValidateMessages(t *testing.T) {
	s := svcTestStrategy()
	svc := svcTest(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName })
	s.Default(svc)
	s.PrepareForCreate(svc)
	commonExpectErrText(t, s.Validate(svc), "spec.externalName: Required value")

	old := svcTest(func(s *corev1.Service) { s.Spec.ClusterIP = "10.0.0.5" })
	s.Default(old)
	s.PrepareForCreate(old)
	upd := old.DeepCopy()
	upd.Spec.ClusterIP = "10.0.0.6"
	s.Default(upd)
	s.PrepareForUpdate(upd, old)
	errs := s.ValidateUpdate(upd, old)
	commonExpectErrs(t, errs, "FieldValueInvalid spec.clusterIPs[0]")
	commonExpectErrText(t, errs, "may not change once set")
}

func TestServiceUpdate(t *testing.T) {
	s := svcTestStrategy()
	base := func() *corev1.Service {
		svc := svcTest(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 30080
		})
		s.Default(svc)
		s.PrepareForCreate(svc)
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"} // as the store allocates
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "kept.example.com"}}
		return svc
	}
	cases := []struct {
		name  string
		mut   func(*corev1.Service)
		want  []string
		check func(*testing.T, *corev1.Service)
	}{
		{"reapply manifest without allocated values", func(n *corev1.Service) {
			n.Spec.ClusterIP, n.Spec.ClusterIPs = "", nil
			n.Spec.Ports[0].NodePort = 0
			n.Status = corev1.ServiceStatus{}
		}, nil, func(t *testing.T, n *corev1.Service) {
			if n.Spec.ClusterIP != "10.96.0.10" || n.Spec.Ports[0].NodePort != 30080 {
				t.Errorf("allocated values not kept: %q %d", n.Spec.ClusterIP, n.Spec.Ports[0].NodePort)
			}
		}},
		{"switch to cluster ip drops node ports", func(n *corev1.Service) { n.Spec.Type = corev1.ServiceTypeClusterIP }, nil,
			func(t *testing.T, n *corev1.Service) {
				if n.Spec.Ports[0].NodePort != 0 || n.Spec.ExternalTrafficPolicy != "" {
					t.Errorf("node port %d / etp %q not dropped", n.Spec.Ports[0].NodePort, n.Spec.ExternalTrafficPolicy)
				}
				if len(n.Status.LoadBalancer.Ingress) != 0 {
					t.Error("LB status kept for non-LB service")
				}
			}},
		{"switch to external name drops cluster ip", func(n *corev1.Service) {
			n.Spec.Type = corev1.ServiceTypeExternalName
			n.Spec.ExternalName = "example.com"
		}, nil, func(t *testing.T, n *corev1.Service) {
			if n.Spec.ClusterIP != "" || n.Spec.ClusterIPs != nil || n.Spec.IPFamilies != nil || n.Spec.IPFamilyPolicy != nil {
				t.Errorf("cluster IP fields kept: %+v", n.Spec)
			}
		}},
		{"status from old", func(n *corev1.Service) { n.Status = corev1.ServiceStatus{} }, nil,
			func(t *testing.T, n *corev1.Service) {
				if len(n.Status.LoadBalancer.Ingress) != 0 {
					t.Error("NodePort service keeps no LB status")
				}
			}},
		{"change cluster ip", func(n *corev1.Service) { n.Spec.ClusterIP = "10.96.0.11" },
			[]string{"FieldValueInvalid spec.clusterIPs[0]"}, nil},
		{"change ip family", func(n *corev1.Service) { n.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} },
			[]string{"FieldValueInvalid spec.clusterIPs[0]", "FieldValueInvalid spec.ipFamilies[0]", "FieldValueInvalid spec.ipFamilies[0]"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old := base()
			n := old.DeepCopy()
			c.mut(n)
			s.Default(n)
			s.PrepareForUpdate(n, old)
			commonExpectErrs(t, s.ValidateUpdate(n, old), c.want...)
			if c.check != nil {
				c.check(t, n)
			}
		})
	}
}

func TestServiceStatusUpdate(t *testing.T) {
	s := svcTestStrategy()
	old := svcTest(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer })
	s.Default(old)
	n := old.DeepCopy()
	n.Spec.Ports[0].Port = 81
	n.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}
	s.Default(n)
	s.PrepareForStatusUpdate(n, old)
	if n.Spec.Ports[0].Port != 80 {
		t.Error("status update changed spec")
	}
	commonExpectErrs(t, s.ValidateStatusUpdate(n, old))
	if n.Status.LoadBalancer.Ingress[0].IPMode == nil || *n.Status.LoadBalancer.Ingress[0].IPMode != corev1.LoadBalancerIPModeVIP {
		t.Error("ipMode not defaulted to VIP")
	}

	cip := svcTest(nil)
	s.Default(cip)
	bad := cip.DeepCopy()
	bad.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "1.2.3.4"}}
	commonExpectErrs(t, s.ValidateStatusUpdate(bad, cip), "FieldValueForbidden status.loadBalancer.ingress")
	lb := old.DeepCopy()
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "1.2.3.4"}}
	commonExpectErrs(t, s.ValidateStatusUpdate(lb, old), "FieldValueInvalid status.loadBalancer.ingress[0].hostname")
}

func TestServiceAllocationHelpers(t *testing.T) {
	f := false
	cases := []struct {
		name     string
		mut      func(*corev1.Service)
		needsIP  bool
		ports    []int
		hcNeeded bool
	}{
		{"cluster ip", nil, true, nil, false},
		{"allocated", func(s *corev1.Service) { s.Spec.ClusterIP = "10.0.0.1"; s.Spec.ClusterIPs = []string{"10.0.0.1"} }, false, nil, false},
		{"headless", func(s *corev1.Service) { s.Spec.ClusterIP = "None" }, false, nil, false},
		{"external name", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName }, false, nil, false},
		{"node port", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports = []corev1.ServicePort{{Port: 80, NodePort: 30000}, {Port: 81}}
		}, true, []int{1}, false},
		{"lb local", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}, true, []int{0}, true},
		{"lb without node ports", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.AllocateLoadBalancerNodePorts = &f
		}, true, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc := svcTest(c.mut)
			if got := ServiceNeedsClusterIP(svc); got != c.needsIP {
				t.Errorf("ServiceNeedsClusterIP = %v", got)
			}
			if got := ServiceNodePortsNeeded(svc); !reflect.DeepEqual(got, c.ports) {
				t.Errorf("ServiceNodePortsNeeded = %v, want %v", got, c.ports)
			}
			if got := ServiceNeedsHealthCheckNodePort(svc); got != c.hcNeeded {
				t.Errorf("ServiceNeedsHealthCheckNodePort = %v", got)
			}
		})
	}
}

func TestServiceTable(t *testing.T) {
	s := svcTestStrategy()
	created := metav1.NewTime(time.Now().Add(-5 * time.Minute))
	cases := []struct {
		name string
		mut  func(*corev1.Service)
		want []interface{}
	}{
		{"cluster ip", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeClusterIP
			s.Spec.ClusterIPs = []string{"10.96.0.1"}
		}, []interface{}{"web", "ClusterIP", "10.96.0.1", "<none>", "80/TCP", "5m", "app=web"}},
		{"node port", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.ClusterIPs = []string{"10.96.0.2"}
			s.Spec.Ports = []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: "TCP"}, {Port: 53, Protocol: "UDP"}}
		}, []interface{}{"web", "NodePort", "10.96.0.2", "<none>", "80:30080/TCP,53/UDP", "5m", "app=web"}},
		{"pending lb", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
		}, []interface{}{"web", "LoadBalancer", "<none>", "<pending>", "80/TCP", "5m", "app=web"}},
		{"lb with ingress and external ips", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ExternalIPs = []string{"192.0.2.9"}
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.2"}, {Hostname: "a.example.com"}, {IP: "192.0.2.2"}}
		}, []interface{}{"web", "LoadBalancer", "<none>", "192.0.2.2,a.example.com,192.0.2.9", "80/TCP", "5m", "app=web"}},
		{"external name", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "db.example.com"
			s.Spec.Ports = nil
			s.Spec.Selector = nil
		}, []interface{}{"web", "ExternalName", "<none>", "db.example.com", "<none>", "5m", "<none>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc := svcTest(c.mut)
			svc.CreationTimestamp = created
			for i := range svc.Spec.Ports {
				if svc.Spec.Ports[i].Protocol == "" {
					svc.Spec.Ports[i].Protocol = corev1.ProtocolTCP
				}
			}
			row := s.TableRow(svc)
			commonCheckTable(t, s, []string{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"}, row)
			if !reflect.DeepEqual(row, c.want) {
				t.Errorf("row = %#v, want %#v", row, c.want)
			}
		})
	}
	sel := s.SelectableFields(svcTest(func(s *corev1.Service) { s.Spec.ClusterIP = "None"; s.Spec.Type = "ClusterIP" }))
	if sel["spec.clusterIP"] != "None" || sel["spec.type"] != "ClusterIP" {
		t.Errorf("selectable fields = %v", sel)
	}
}
