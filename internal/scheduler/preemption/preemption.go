// Package preemption decides, without side effects, whether evicting
// lower-priority pods lets a pod that fits nowhere fit somewhere, and which
// pods to evict: Kubernetes' default preemption (minimal victims per node,
// PodDisruptionBudgets respected where possible, then the node whose
// victims matter least).
package preemption

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Kubernetes' messages.
const (
	MsgNoVictims          = "No preemption victims found for incoming pod"
	MsgNotHelpful         = "Preemption is not helpful for scheduling"
	MsgPolicyNever        = "not eligible due to preemptionPolicy=Never."
	MsgTerminatingVictims = "not eligible due to a terminating pod on the nominated node."
)

// Kubernetes' defaults for the number of candidate nodes to dry-run.
const (
	MinCandidateNodesPercentage = 10
	MinCandidateNodesAbsolute   = 100
)

// Candidate is a node where the pod fits once Victims are gone.
type Candidate struct {
	Node string
	// Victims are ordered from most to least important.
	Victims          []*framework.PodInfo
	NumPDBViolations int
}

// Evaluator runs preemption dry-runs with a framework.
type Evaluator struct {
	fw  *framework.Framework
	rng *rand.Rand
}

// New returns an evaluator; seed drives the random start among nodes.
func New(fw *framework.Framework, seed uint64) *Evaluator {
	return &Evaluator{fw: fw, rng: rand.New(rand.NewPCG(seed, seed+1))}
}

// Preempt returns the candidate to preempt on (nil if preemption cannot
// help) and the message preemption adds to the pod's FitError (empty on
// success). diag is the diagnosis of the failed cycle, state its cycle
// state after PreFilter.
func (e *Evaluator) Preempt(ctx context.Context, state *framework.CycleState, snap *framework.Snapshot, pod *framework.PodInfo,
	diag *framework.Diagnosis, pdbs []*policyv1.PodDisruptionBudget) (*Candidate, string, error) {
	if ok, msg := e.eligible(snap, pod, diag); !ok {
		return nil, "preemption: " + msg, nil
	}
	var potential []*framework.NodeInfo
	for _, ni := range snap.Nodes {
		if diag.StatusOf(ni.Name()).Code() == framework.Unschedulable {
			potential = append(potential, ni)
		}
	}
	statuses := map[string]*framework.Status{}
	var candidates []*Candidate
	if len(potential) > 0 {
		var err error
		candidates, err = e.dryRun(ctx, state, pod, potential, pdbs, statuses)
		if err != nil && len(candidates) == 0 {
			return nil, "", err
		}
	}
	if len(candidates) == 0 {
		fe := &framework.FitError{Pod: pod.Pod, NumAllNodes: snap.NumNodes(), Diagnosis: framework.Diagnosis{
			NodeToStatus: statuses, AbsentNodesStatus: framework.NewStatus(framework.UnschedulableAndUnresolvable, MsgNotHelpful)}}
		return nil, "preemption: " + fe.Error(), nil
	}
	return PickOne(candidates), "", nil
}

// eligible applies Kubernetes' PodEligibleToPreemptOthers.
func (e *Evaluator) eligible(snap *framework.Snapshot, pod *framework.PodInfo, diag *framework.Diagnosis) (bool, string) {
	if p := pod.Pod.Spec.PreemptionPolicy; p != nil && *p == v1.PreemptNever {
		return false, MsgPolicyNever
	}
	nn := pod.Pod.Status.NominatedNodeName
	if nn == "" || diag.StatusOf(nn).Code() == framework.UnschedulableAndUnresolvable {
		return true, ""
	}
	if ni := snap.Get(nn); ni != nil {
		for _, p := range ni.Pods {
			if p.Priority < pod.Priority && TerminatingByPreemption(p.Pod) {
				return false, MsgTerminatingVictims
			}
		}
	}
	return true, ""
}

// TerminatingByPreemption reports whether p is being deleted because the
// scheduler preempted it.
func TerminatingByPreemption(p *v1.Pod) bool {
	if p.DeletionTimestamp == nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == v1.DisruptionTarget {
			return c.Status == v1.ConditionTrue && c.Reason == v1.PodReasonPreemptionByScheduler
		}
	}
	return false
}

// numCandidates is how many candidates to find among n potential nodes.
func numCandidates(n int) int {
	c := n * MinCandidateNodesPercentage / 100
	if c < MinCandidateNodesAbsolute {
		c = MinCandidateNodesAbsolute
	}
	return min(c, n)
}

func (e *Evaluator) dryRun(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, potential []*framework.NodeInfo,
	pdbs []*policyv1.PodDisruptionBudget, statuses map[string]*framework.Status) ([]*Candidate, error) {
	offset := e.rng.IntN(len(potential))
	want := numCandidates(len(potential))
	var nonViolating, violating []*Candidate
	var firstErr error
	for k := 0; k < len(potential); k++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		ni := potential[(offset+k)%len(potential)]
		victims, nViol, st := e.SelectVictimsOnNode(ctx, state.Clone(), pod, ni.Clone(), pdbs)
		if st.IsSuccess() && len(victims) > 0 {
			c := &Candidate{Node: ni.Name(), Victims: victims, NumPDBViolations: nViol}
			if nViol == 0 {
				nonViolating = append(nonViolating, c)
			} else {
				violating = append(violating, c)
			}
			if len(nonViolating) > 0 && len(nonViolating)+len(violating) >= want {
				break
			}
			continue
		}
		if st.IsSuccess() {
			st = framework.AsStatus(fmt.Errorf("expected at least one victim pod on node %q", ni.Name()))
		}
		if st.Code() == framework.Error && firstErr == nil {
			firstErr = st.AsError()
		}
		statuses[ni.Name()] = st
	}
	return append(nonViolating, violating...), firstErr
}

// SelectVictimsOnNode finds the fewest, least important pods on ni (a
// copy, as is state) whose removal lets pod fit: it removes every
// lower-priority pod, checks the pod fits, then adds pods back from the
// most important down (pods whose eviction would violate a PDB first),
// keeping each one that still leaves room. It returns the victims (most
// important first) and how many of them violate a PDB.
func (e *Evaluator) SelectVictimsOnNode(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo,
	pdbs []*policyv1.PodDisruptionBudget) ([]*framework.PodInfo, int, *framework.Status) {
	var potential []*framework.PodInfo
	for _, p := range ni.Pods {
		if p.Priority < pod.Priority {
			potential = append(potential, p)
		}
	}
	if len(potential) == 0 {
		return nil, 0, framework.NewStatus(framework.UnschedulableAndUnresolvable, MsgNoVictims)
	}
	remove := func(p *framework.PodInfo) *framework.Status {
		if err := ni.RemovePod(p.Pod); err != nil {
			return framework.AsStatus(err)
		}
		return e.fw.RunPreFilterExtensionRemovePod(ctx, state, pod, p, ni)
	}
	for _, p := range potential {
		if st := remove(p); !st.IsSuccess() {
			return nil, 0, st
		}
	}
	if st := e.fw.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni); !st.IsSuccess() {
		return nil, 0, st
	}
	sort.SliceStable(potential, func(i, j int) bool { return framework.MoreImportant(potential[i], potential[j]) })
	violatingPods, nonViolatingPods := splitByPDB(potential, pdbs)
	var victims []*framework.PodInfo
	reprieve := func(p *framework.PodInfo) (bool, *framework.Status) {
		ni.AddPod(p)
		if st := e.fw.RunPreFilterExtensionAddPod(ctx, state, pod, p, ni); !st.IsSuccess() {
			return false, st
		}
		fits := e.fw.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni).IsSuccess()
		if !fits {
			if st := remove(p); !st.IsSuccess() {
				return false, st
			}
			victims = append(victims, p)
		}
		return fits, nil
	}
	violations := 0
	for _, p := range violatingPods {
		fits, st := reprieve(p)
		if st != nil {
			return nil, 0, st
		}
		if !fits {
			violations++
		}
	}
	for _, p := range nonViolatingPods {
		if _, st := reprieve(p); st != nil {
			return nil, 0, st
		}
	}
	if len(violatingPods) > 0 && len(nonViolatingPods) > 0 {
		sort.SliceStable(victims, func(i, j int) bool { return framework.MoreImportant(victims[i], victims[j]) })
	}
	return victims, violations, nil
}

// splitByPDB separates pods whose eviction would exceed a matching PDB's
// disruptionsAllowed (counting the pods in order) from the others,
// keeping their order.
func splitByPDB(pods []*framework.PodInfo, pdbs []*policyv1.PodDisruptionBudget) (violating, nonViolating []*framework.PodInfo) {
	allowed := make([]int32, len(pdbs))
	sels := make([]labels.Selector, len(pdbs))
	for i, pdb := range pdbs {
		allowed[i] = pdb.Status.DisruptionsAllowed
		if s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil {
			sels[i] = s
		}
	}
	for _, p := range pods {
		violated := false
		if len(p.Pod.Labels) > 0 {
			for i, pdb := range pdbs {
				if pdb.Namespace != p.Pod.Namespace || sels[i] == nil || sels[i].Empty() || !sels[i].Matches(labels.Set(p.Pod.Labels)) {
					continue
				}
				if _, disrupted := pdb.Status.DisruptedPods[p.Pod.Name]; disrupted {
					continue
				}
				allowed[i]--
				if allowed[i] < 0 {
					violated = true
				}
			}
		}
		if violated {
			violating = append(violating, p)
		} else {
			nonViolating = append(nonViolating, p)
		}
	}
	return violating, nonViolating
}

// PickOne chooses among candidates, in order of precedence: fewest PDB
// violations, lowest highest-victim priority, lowest sum of priorities,
// fewest victims, latest start of the highest-priority victims; then the
// first.
func PickOne(cs []*Candidate) *Candidate {
	if len(cs) == 0 {
		return nil
	}
	scoreFuncs := []func(c *Candidate) int64{
		func(c *Candidate) int64 { return -int64(c.NumPDBViolations) },
		func(c *Candidate) int64 { return -int64(c.Victims[0].Priority) },
		func(c *Candidate) int64 {
			var sum int64
			for _, v := range c.Victims {
				sum += int64(v.Priority) + int64(math.MaxInt32) + 1
			}
			return -sum
		},
		func(c *Candidate) int64 { return -int64(len(c.Victims)) },
		func(c *Candidate) int64 {
			t := earliestStartOfTopPriority(c.Victims)
			if t == nil {
				return math.MinInt64
			}
			return t.UnixNano()
		},
	}
	rest := cs
	for _, f := range scoreFuncs {
		var best []*Candidate
		top := int64(math.MinInt64)
		for _, c := range rest {
			s := f(c)
			if s > top {
				top, best = s, best[:0]
			}
			if s == top {
				best = append(best, c)
			}
		}
		if len(best) == 1 {
			return best[0]
		}
		rest = best
	}
	return rest[0]
}

func earliestStartOfTopPriority(victims []*framework.PodInfo) *metav1.Time {
	if len(victims) == 0 {
		return nil
	}
	top := victims[0].Priority
	var earliest *metav1.Time
	for _, v := range victims {
		if v.Priority != top {
			continue
		}
		t := v.Pod.Status.StartTime
		if t == nil {
			t = &v.Pod.CreationTimestamp
		}
		if earliest == nil || t.Before(earliest) {
			earliest = t
		}
	}
	return earliest
}
