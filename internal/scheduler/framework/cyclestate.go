package framework

// StateData is per-cycle plugin state.
type StateData interface {
	// Clone returns a copy that preemption's what-if changes (AddPod /
	// RemovePod) may modify; immutable data may return itself.
	Clone() StateData
}

// NominatedPodsFunc returns the pods nominated to run on a node (by an
// earlier preemption) that are not bound yet.
type NominatedPodsFunc func(nodeName string) []*PodInfo

// CycleState is the state of scheduling one pod: the snapshot it runs
// against and data plugins share between their extension points. It is
// written by one goroutine during PreFilter/PreScore and only read during
// the concurrent Filter/Score calls.
type CycleState struct {
	// Snapshot is the cluster view of this cycle.
	Snapshot *Snapshot
	// Nominated returns pods nominated to a node; nil means none.
	Nominated NominatedPodsFunc

	data map[string]StateData
	// filters and scorers are the plugins not skipped for this pod.
	filters []FilterPlugin
	scorers []weightedScorer
}

// NewCycleState starts the state of a cycle against snapshot.
func NewCycleState(snapshot *Snapshot) *CycleState {
	return &CycleState{Snapshot: snapshot, data: make(map[string]StateData, 8)}
}

// Read returns the data stored under key, or nil.
func (c *CycleState) Read(key string) StateData { return c.data[key] }

// Write stores data under key.
func (c *CycleState) Write(key string, d StateData) { c.data[key] = d }

// Clone copies the state (each StateData through its Clone).
func (c *CycleState) Clone() *CycleState {
	n := &CycleState{Snapshot: c.Snapshot, Nominated: c.Nominated, data: make(map[string]StateData, len(c.data)),
		filters: c.filters, scorers: c.scorers}
	for k, v := range c.data {
		if v != nil {
			n.data[k] = v.Clone()
		}
	}
	return n
}
