package ingress

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func statusNode(ip string, ready corev1.ConditionStatus, heartbeat int64) *corev1.Node {
	n := &corev1.Node{Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}}}
	if ready != "" {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready,
			LastHeartbeatTime: metav1.Unix(heartbeat, 0)}}
	}
	return n
}

func TestNodeAddressesSkipsNotReady(t *testing.T) {
	nodes := []*corev1.Node{
		statusNode("10.0.0.1", corev1.ConditionTrue, 0),
		statusNode("10.0.0.2", corev1.ConditionFalse, 0),
		statusNode("10.0.0.3", corev1.ConditionUnknown, 0),
		statusNode("10.0.0.4", "", 0), // not reported yet: kept
	}
	if got := strings.Join(NodeAddresses(nodes), ","); got != "10.0.0.1,10.0.0.4" {
		t.Errorf("NodeAddresses = %s, want 10.0.0.1,10.0.0.4", got)
	}
}

func TestNodeStatusChanged(t *testing.T) {
	tests := []struct {
		name     string
		old, cur interface{}
		want     bool
	}{
		{"heartbeat", statusNode("10.0.0.1", corev1.ConditionTrue, 1), statusNode("10.0.0.1", corev1.ConditionTrue, 2), false},
		{"became not ready", statusNode("10.0.0.1", corev1.ConditionTrue, 1), statusNode("10.0.0.1", corev1.ConditionFalse, 2), true},
		{"became ready", statusNode("10.0.0.1", corev1.ConditionUnknown, 1), statusNode("10.0.0.1", corev1.ConditionTrue, 2), true},
		{"address changed", statusNode("10.0.0.1", corev1.ConditionTrue, 1), statusNode("10.0.0.9", corev1.ConditionTrue, 1), true},
		{"not a node", "x", statusNode("10.0.0.1", corev1.ConditionTrue, 1), true},
	}
	for _, tt := range tests {
		if got := nodeStatusChanged(tt.old, tt.cur); got != tt.want {
			t.Errorf("%s: nodeStatusChanged = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStatusUpdate(t *testing.T) {
	ours := LoadBalancerStatus([]string{"192.0.2.1", "192.0.2.2"})
	other := LoadBalancerStatus([]string{"198.51.100.7"})
	tests := []struct {
		name            string
		served, wroteIt bool
		cur             []networkingv1.IngressLoadBalancerIngress
		want            []networkingv1.IngressLoadBalancerIngress
		update          bool
	}{
		{"served, no status yet", true, false, nil, ours, true},
		{"served, up to date", true, true, ours, ours, false},
		{"served, addresses changed", true, true, other, ours, true},
		{"class moved away: cleared", false, true, ours, nil, true},
		{"class moved away, another controller wrote its status", false, true, other, other, false},
		{"never ours with our addresses: left alone", false, false, ours, ours, false},
		{"not served, no status", false, true, nil, nil, false},
	}
	for _, tt := range tests {
		got, update := StatusUpdate(tt.served, tt.wroteIt, tt.cur, ours)
		if update != tt.update || !equalLB(got, tt.want) {
			t.Errorf("%s: %v %v, want %v %v", tt.name, got, update, tt.want, tt.update)
		}
	}
}
