package servicelb

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func node(name, ip string, ready bool) *corev1.Node {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	n := &corev1.Node{}
	n.Name = name
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}
	if ip != "" {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}}
	}
	return n
}

func TestDesired(t *testing.T) {
	nodes := []*corev1.Node{node("b", "192.0.2.20", true), node("a", "192.0.2.3", true), node("c", "192.0.2.9", false), node("d", "", true)}
	lb := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	got, ours := Desired(lb, nodes)
	if !ours || len(got) != 2 || got[0].IP != "192.0.2.3" || got[1].IP != "192.0.2.20" || *got[0].IPMode != corev1.LoadBalancerIPModeVIP {
		t.Fatalf("Desired = %+v, %v; want the two Ready nodes' InternalIPs in address order", got, ours)
	}
	classed := lb.DeepCopy()
	classed.Spec.LoadBalancerClass = ptr.To("example.com/other")
	if _, ours := Desired(classed, nodes); ours {
		t.Fatal("a Service with a loadBalancerClass belongs to another controller")
	}
	cluster := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}}
	if _, ours := Desired(cluster, nodes); ours {
		t.Fatal("a ClusterIP Service without ingress is not ours")
	}
	cluster.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.3"}}
	if got, ours := Desired(cluster, nodes); !ours || len(got) != 0 {
		t.Fatalf("a Service that stopped being a LoadBalancer must be cleared: %+v %v", got, ours)
	}
	if got, _ := Desired(lb, nil); len(got) != 0 {
		t.Fatalf("no nodes: %+v", got)
	}
}
