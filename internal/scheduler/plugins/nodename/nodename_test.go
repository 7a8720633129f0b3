package nodename_test

import (
	"testing"

	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/nodename"
)

func TestFilter(t *testing.T) {
	nodes := tu.Nodes(2, "1", "1Gi")
	cases := []struct {
		name, nodeName string
		want           map[string]string
	}{
		{"no node name fits anywhere", "", map[string]string{"node-0": "", "node-1": ""}},
		{"named node only", "node-1", map[string]string{"node-0": "UnschedulableAndUnresolvable: " + nodename.ErrReason, "node-1": ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tu.Filter(t, nodename.NodeName{}, nodes, nil, tu.Pod("p", "", "", tu.On(c.nodeName)))
			for n, w := range c.want {
				if s := tu.StatusString(got[n]); s != w {
					t.Errorf("%s: %q, want %q", n, s, w)
				}
			}
		})
	}
}
