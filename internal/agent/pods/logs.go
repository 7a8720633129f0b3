package pods

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiff-io/skiff/internal/agent/logs"
)

// Errors of Logs and Resolve: the pod or container is not here, or the
// request cannot be served as asked.
var (
	ErrNotFound   = errors.New("not found")
	ErrBadRequest = errors.New("bad request")
)

// lookup finds a pod of this node and the runtime's view of it.
func (m *Manager) lookup(ctx context.Context, ns, name string) (*corev1.Pod, *Observed, error) {
	pod, err := m.lister.Pods(ns).Get(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: pod %q is not on node %q", ErrNotFound, ns+"/"+name, m.cfg.NodeName)
	}
	o, err := m.observe(ctx, pod.UID)
	if err != nil {
		return nil, nil, err
	}
	return pod, o, nil
}

// Resolve returns the IDs of a pod's running container (none when
// container is empty) and of its sandbox.
func (m *Manager) Resolve(ctx context.Context, ns, name, container string) (string, string, error) {
	_, o, err := m.lookup(ctx, ns, name)
	if err != nil {
		return "", "", err
	}
	sb := o.Sandbox()
	if sb == nil || !sb.Ready {
		return "", "", fmt.Errorf("%w: pod %q has no running sandbox", ErrBadRequest, name)
	}
	if container == "" {
		return "", sb.ID, nil
	}
	in := o.Latest(container)
	if in == nil || !in.Running() {
		return "", "", fmt.Errorf("%w: container %q in pod %q is not running", ErrBadRequest, container, name)
	}
	return in.ID, sb.ID, nil
}

// Logs writes a container's log to w, following it while the container
// runs when opts.Follow is set.
func (m *Manager) Logs(ctx context.Context, ns, name, container string, opts *corev1.PodLogOptions, w io.Writer) error {
	pod, o, err := m.lookup(ctx, ns, name)
	if err != nil {
		return err
	}
	l := o.Containers[container]
	var in *Instance
	switch {
	case opts.Previous && len(l) >= 2:
		in = l[1]
	case opts.Previous:
		return fmt.Errorf("%w: previous terminated container %q in pod %q not found", ErrBadRequest, container, name)
	case len(l) > 0:
		in = l[0]
	default:
		return fmt.Errorf("%w: container %q in pod %q is waiting to start: %s", ErrBadRequest, container, name, waitingReason(pod, container))
	}
	path := filepath.Join(m.logDir(pod), container, fmt.Sprintf("%d.log", in.Attempt))
	ro := logs.Options{Follow: opts.Follow && !opts.Previous, TailLines: opts.TailLines, Timestamps: opts.Timestamps, LimitBytes: opts.LimitBytes}
	if opts.SinceTime != nil {
		t := opts.SinceTime.Time
		ro.SinceTime = &t
	} else if opts.SinceSeconds != nil {
		t := m.cfg.Now().Add(-time.Duration(*opts.SinceSeconds) * time.Second)
		ro.SinceTime = &t
	}
	id := in.ID
	running := func() bool {
		st, err := m.cfg.Runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
		return err == nil && st.Status.State == runtimeapi.ContainerState_CONTAINER_RUNNING
	}
	return logs.Read(ctx, path, ro, w, running)
}

func waitingReason(pod *corev1.Pod, container string) string {
	for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if cs.Name == container && cs.State.Waiting != nil {
			return cs.State.Waiting.Reason
		}
	}
	return "ContainerCreating"
}
