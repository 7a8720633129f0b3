package prober

// verdict is a worker's folded view of its container: the value the kubelet
// keeps in its results cache.
type verdict int

// Folded probe states.
const (
	verdictUnknown verdict = iota
	verdictSuccess
	verdictFailure
)

// initialVerdict is what a new container reports before its first decisive
// probe: readiness starts failed (not ready), liveness starts healthy and
// startup starts unknown (not started).
func initialVerdict(k Kind) verdict {
	switch k {
	case Readiness:
		return verdictFailure
	case Liveness:
		return verdictSuccess
	default:
		return verdictUnknown
	}
}

// verdictOf maps one attempt's result to the state it pushes towards: a
// warning counts as success, unknown as failure.
func verdictOf(r Result) verdict {
	if r == Success || r == Warning {
		return verdictSuccess
	}
	return verdictFailure
}

// tracker folds consecutive probe attempts into a reported verdict using the
// success and failure thresholds. The zero value is not ready for use; start
// from newTracker.
type tracker struct {
	kind     Kind
	reported verdict
	last     verdict
	run      int
	// onHold stops further folding: set once a liveness or startup probe
	// crossed its failure threshold (the container is about to be killed)
	// or was settled because the pod is being deleted.
	onHold bool
}

// newTracker returns the tracker for a fresh container.
func newTracker(k Kind) tracker {
	return tracker{kind: k, reported: initialVerdict(k), last: verdictUnknown}
}

// observe folds one attempt and reports whether the reported verdict changed.
// A run of identical verdicts shorter than its threshold leaves the reported
// verdict unchanged.
func (t *tracker) observe(v verdict, p params) bool {
	if t.onHold {
		return false
	}
	if v == t.last {
		t.run++
	} else {
		t.last, t.run = v, 1
	}
	if (v == verdictFailure && t.run < p.failureThreshold) || (v == verdictSuccess && t.run < p.successThreshold) {
		return false
	}
	changed := t.reported != v
	t.reported = v
	if v == verdictFailure && t.kind != Readiness {
		t.onHold, t.run = true, 0
	}
	return changed
}

// settle forces the reported verdict to success and stops further folding;
// used for liveness and startup probes once the pod is being deleted, so a
// terminating container is not restarted. It reports whether the verdict
// changed.
func (t *tracker) settle() bool {
	changed := t.reported != verdictSuccess
	t.reported, t.onHold = verdictSuccess, true
	return changed
}
