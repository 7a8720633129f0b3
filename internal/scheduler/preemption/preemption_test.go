package preemption_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/scheduler/core"
	"github.com/skiff-io/skiff/internal/scheduler/framework"
	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	"github.com/skiff-io/skiff/internal/scheduler/plugins"
	"github.com/skiff-io/skiff/internal/scheduler/preemption"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// preempt schedules pod, expects a FitError and runs preemption.
func preempt(t *testing.T, nodes []*v1.Node, placed []*v1.Pod, pod *v1.Pod, pdbs []*policyv1.PodDisruptionBudget) (*preemption.Candidate, string) {
	t.Helper()
	fw, err := plugins.NewDefaultFramework(plugins.Handle{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	snap := framework.NewSnapshot(placed, nodes, nil)
	pi := framework.NewPodInfo(pod, framework.PodPriority(pod))
	_, state, err := core.New(fw, 0, 1).Schedule(context.Background(), snap, pi, nil)
	var fe *framework.FitError
	if !errors.As(err, &fe) {
		t.Fatalf("schedule: %v, want a FitError", err)
	}
	c, msg, err := preemption.New(fw, 1).Preempt(context.Background(), state, snap, pi, &fe.Diagnosis, pdbs)
	if err != nil {
		t.Fatal(err)
	}
	return c, msg
}

func names(c *preemption.Candidate) []string {
	var out []string
	for _, v := range c.Victims {
		out = append(out, v.Pod.Name)
	}
	return out
}

func TestPreempt(t *testing.T) {
	start := func(sec int64) func(*v1.Pod) {
		return func(p *v1.Pod) { tm := metav1.NewTime(time.Unix(sec, 0)); p.Status.StartTime = &tm }
	}
	cases := []struct {
		name        string
		nodes       []*v1.Node
		placed      []*v1.Pod
		pod         *v1.Pod
		wantNode    string
		wantVictims []string
		wantMsg     string
	}{
		{"evicts the fewest, least important pods", []*v1.Node{tu.Node("n", "4", "8Gi")},
			[]*v1.Pod{tu.Pod("p1", "1", "", tu.On("n"), tu.Priority(1)), tu.Pod("p5", "1", "", tu.On("n"), tu.Priority(5)),
				tu.Pod("p3", "2", "", tu.On("n"), tu.Priority(3))},
			tu.Pod("new", "2", "", tu.Priority(10)), "n", []string{"p3"}, ""},
		{"no lower-priority pods", []*v1.Node{tu.Node("n", "2", "8Gi")}, []*v1.Pod{tu.Pod("a", "2", "", tu.On("n"), tu.Priority(10))},
			tu.Pod("new", "1", "", tu.Priority(10)), "", nil,
			"preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."},
		{"unresolvable nodes are not tried", []*v1.Node{tu.Node("n", "2", "8Gi"), tu.Node("t", "8", "8Gi", tu.Taint("k", "v", v1.TaintEffectNoSchedule))},
			[]*v1.Pod{tu.Pod("a", "2", "", tu.On("n"), tu.Priority(10))}, tu.Pod("new", "1", "", tu.Priority(10)), "", nil,
			"preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."},
		{"evicting every lower-priority pod would not help", []*v1.Node{tu.Node("n", "2", "8Gi")},
			[]*v1.Pod{tu.Pod("a", "1", "", tu.On("n"), tu.Priority(1)), tu.Pod("b", "1", "", tu.On("n"), tu.Priority(20))},
			tu.Pod("new", "2", "", tu.Priority(10)), "", nil,
			"preemption: 0/1 nodes are available: 1 Insufficient cpu."},
		{"requests beyond every node: not helpful", []*v1.Node{tu.Node("n", "2", "8Gi"), tu.Node("m", "2", "8Gi")},
			[]*v1.Pod{tu.Pod("a", "1", "", tu.On("n"), tu.Priority(1))}, tu.Pod("new", "3", "", tu.Priority(10)), "", nil,
			"preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."},
		{"preemptionPolicy Never", []*v1.Node{tu.Node("n", "1", "8Gi")}, []*v1.Pod{tu.Pod("a", "1", "", tu.On("n"), tu.Priority(1))},
			tu.Pod("new", "1", "", tu.Priority(10), func(p *v1.Pod) { never := v1.PreemptNever; p.Spec.PreemptionPolicy = &never }), "", nil,
			"preemption: not eligible due to preemptionPolicy=Never."},
		{"prefers the node with lower-priority victims", []*v1.Node{tu.Node("x", "1", "8Gi"), tu.Node("y", "1", "8Gi")},
			[]*v1.Pod{tu.Pod("a", "1", "", tu.On("x"), tu.Priority(5)), tu.Pod("b", "1", "", tu.On("y"), tu.Priority(2))},
			tu.Pod("new", "1", "", tu.Priority(10)), "y", []string{"b"}, ""},
		{"then fewer victims", []*v1.Node{tu.Node("x", "2", "8Gi"), tu.Node("y", "2", "8Gi")},
			[]*v1.Pod{tu.Pod("a1", "1", "", tu.On("x"), tu.Priority(1)), tu.Pod("a2", "1", "", tu.On("x"), tu.Priority(1)),
				tu.Pod("b", "2", "", tu.On("y"), tu.Priority(1))},
			tu.Pod("new", "2", "", tu.Priority(10)), "y", []string{"b"}, ""},
		{"then the most recently started victims", []*v1.Node{tu.Node("x", "1", "8Gi"), tu.Node("y", "1", "8Gi")},
			[]*v1.Pod{tu.Pod("old", "1", "", tu.On("x"), tu.Priority(1), start(100)), tu.Pod("young", "1", "", tu.On("y"), tu.Priority(1), start(200))},
			tu.Pod("new", "1", "", tu.Priority(10)), "y", []string{"young"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cand, msg := preempt(t, c.nodes, c.placed, c.pod, nil)
			if c.wantNode == "" {
				if cand != nil || msg != c.wantMsg {
					t.Errorf("candidate %+v msg\n %q, want\n %q", cand, msg, c.wantMsg)
				}
				return
			}
			if cand == nil || cand.Node != c.wantNode || len(names(cand)) != len(c.wantVictims) || names(cand)[0] != c.wantVictims[0] {
				t.Errorf("candidate %+v (victims %v), want %s %v; msg %q", cand, names(cand), c.wantNode, c.wantVictims, msg)
			}
		})
	}
}

func TestPreemptRespectsPDB(t *testing.T) {
	nodes := []*v1.Node{tu.Node("x", "1", "8Gi"), tu.Node("y", "1", "8Gi")}
	placed := []*v1.Pod{
		tu.Pod("guarded", "1", "", tu.On("x"), tu.Priority(1), tu.PodLabels("app", "db")),
		tu.Pod("free", "1", "", tu.On("y"), tu.Priority(5)),
	}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: tu.Selector("app", "db")}, Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 0}}
	cand, _ := preempt(t, nodes, placed, tu.Pod("new", "1", "", tu.Priority(10)), []*policyv1.PodDisruptionBudget{pdb})
	if cand == nil || cand.Node != "y" || cand.NumPDBViolations != 0 {
		t.Errorf("candidate %+v: should avoid violating the PDB", cand)
	}
}

func TestTerminatingVictimsBlockRepeatPreemption(t *testing.T) {
	now := metav1.Now()
	victim := tu.Pod("v", "1", "", tu.On("n"), tu.Priority(1), func(p *v1.Pod) {
		p.DeletionTimestamp = &now
		p.Status.Conditions = []v1.PodCondition{{Type: v1.DisruptionTarget, Status: v1.ConditionTrue, Reason: v1.PodReasonPreemptionByScheduler}}
	})
	pod := tu.Pod("new", "1", "", tu.Priority(10), func(p *v1.Pod) { p.Status.NominatedNodeName = "n" })
	_, msg := preempt(t, []*v1.Node{tu.Node("n", "1", "8Gi")}, []*v1.Pod{victim}, pod, nil)
	if msg != "preemption: not eligible due to a terminating pod on the nominated node." {
		t.Errorf("msg %q", msg)
	}
}
