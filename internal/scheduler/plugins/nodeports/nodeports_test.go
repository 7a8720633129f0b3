package nodeports_test

import (
	"testing"

	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/nodeports"
	v1 "k8s.io/api/core/v1"
)

func TestFilter(t *testing.T) {
	nodes := []*v1.Node{tu.Node("n", "1", "1Gi")}
	used := tu.Pod("used", "", "", tu.On("n"), tu.HostPort(8080, v1.ProtocolTCP, "10.0.0.1"))
	const conflict = "Unschedulable: " + nodeports.ErrReason
	cases := []struct {
		name string
		pod  *v1.Pod
		want string
	}{
		{"no host ports", tu.Pod("p", "", ""), ""},
		{"free port", tu.Pod("p", "", "", tu.HostPort(9090, v1.ProtocolTCP, "")), ""},
		{"same port, other protocol", tu.Pod("p", "", "", tu.HostPort(8080, v1.ProtocolUDP, "")), ""},
		{"same port, other IP", tu.Pod("p", "", "", tu.HostPort(8080, v1.ProtocolTCP, "10.0.0.2")), ""},
		{"same port on all IPs", tu.Pod("p", "", "", tu.HostPort(8080, v1.ProtocolTCP, "")), conflict},
		{"same port and IP", tu.Pod("p", "", "", tu.HostPort(8080, v1.ProtocolTCP, "10.0.0.1")), conflict},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tu.Filter(t, nodeports.NodePorts{}, nodes, []*v1.Pod{used}, c.pod)
			if s := tu.StatusString(got["n"]); s != c.want {
				t.Errorf("%q, want %q", s, c.want)
			}
		})
	}
}
