// Package pods turns the pods bound to a node into running containers
// through CRI: for each pod a level-triggered sync reads what the runtime
// has, plans what to do (a pure function of pod and runtime state),
// carries the plan out, and writes the pod's status.
package pods

import (
	"sort"
	"strconv"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Labels and annotations the agent puts on sandboxes and containers, with
// the kubelet's names so that crictl and friends show familiar things.
const (
	labelPodName       = "io.kubernetes.pod.name"
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelPodUID        = "io.kubernetes.pod.uid"
	labelContainerName = "io.kubernetes.container.name"
	labelContainerType = "io.kubernetes.container.type" // "init" for init containers
	annotationHash     = "io.kubernetes.container.hash"
	annotationTermPath = "io.kubernetes.container.terminationMessagePath"
	annotationGrace    = "io.kubernetes.pod.terminationGracePeriod"
)

// Sandbox is one pod sandbox as the runtime reports it.
type Sandbox struct {
	ID      string
	Attempt uint32
	Ready   bool
	IP      string
	Created time.Time
}

// Instance is one container instance (one run of a container).
type Instance struct {
	ID        string
	SandboxID string
	Name      string
	Init      bool
	Attempt   uint32
	State     runtimeapi.ContainerState
	ExitCode  int32
	Reason    string
	Message   string
	Created   time.Time
	Started   time.Time
	Finished  time.Time
	Image     string
	ImageRef  string
	// Hash fingerprints the container spec the instance was created from;
	// a changed spec (say a new image) replaces the container.
	Hash string
}

// Running reports whether the instance is running.
func (i *Instance) Running() bool { return i.State == runtimeapi.ContainerState_CONTAINER_RUNNING }

// Exited reports whether the instance has run and stopped.
func (i *Instance) Exited() bool { return i.State == runtimeapi.ContainerState_CONTAINER_EXITED }

// Observed is the runtime's view of one pod.
type Observed struct {
	// Sandboxes newest first.
	Sandboxes []Sandbox
	// Containers maps a container name to its instances, newest first.
	Containers map[string][]*Instance
}

// Sandbox returns the newest sandbox, or nil.
func (o *Observed) Sandbox() *Sandbox {
	if len(o.Sandboxes) == 0 {
		return nil
	}
	return &o.Sandboxes[0]
}

// Latest is the newest instance of a container in the current sandbox.
func (o *Observed) Latest(name string) *Instance {
	sb := o.Sandbox()
	for _, in := range o.Containers[name] {
		if sb != nil && in.SandboxID == sb.ID {
			return in
		}
	}
	return nil
}

// Previous is the instance before the newest one (what `logs --previous`
// shows), or nil.
func (o *Observed) Previous(name string) *Instance {
	l := o.Containers[name]
	if len(l) < 2 {
		return nil
	}
	return l[1]
}

// sortObserved orders sandboxes and instances newest first.
func sortObserved(o *Observed) {
	sort.SliceStable(o.Sandboxes, func(i, j int) bool {
		if o.Sandboxes[i].Attempt != o.Sandboxes[j].Attempt {
			return o.Sandboxes[i].Attempt > o.Sandboxes[j].Attempt
		}
		return o.Sandboxes[i].Created.After(o.Sandboxes[j].Created)
	})
	for _, l := range o.Containers {
		sort.SliceStable(l, func(i, j int) bool {
			if !l[i].Created.Equal(l[j].Created) {
				return l[i].Created.After(l[j].Created)
			}
			return l[i].Attempt > l[j].Attempt
		})
	}
}

func parseUint32(s string) uint32 {
	v, _ := strconv.ParseUint(s, 10, 32)
	return uint32(v)
}
