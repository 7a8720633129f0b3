package pods

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// statusCache remembers container and sandbox details that cannot change
// any more (a container's start, an exited container's end, a sandbox's
// address), so that a sync costs two list calls, not one call per
// container.
type statusCache struct {
	mu         sync.Mutex
	containers map[string]*runtimeapi.ContainerStatus // by ID, with the state it was read in
	sandboxIPs map[string]string
}

func newStatusCache() *statusCache {
	return &statusCache{containers: map[string]*runtimeapi.ContainerStatus{}, sandboxIPs: map[string]string{}}
}

func (c *statusCache) forget(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		delete(c.containers, id)
		delete(c.sandboxIPs, id)
	}
}

// observe reads the runtime's state of the pod with uid.
func (m *Manager) observe(ctx context.Context, uid types.UID) (*Observed, error) {
	sel := map[string]string{labelPodUID: string(uid)}
	sbs, err := m.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: sel}})
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	cs, err := m.cfg.Runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{LabelSelector: sel}})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	o := &Observed{Containers: map[string][]*Instance{}}
	for _, sb := range sbs.Items {
		s := Sandbox{ID: sb.Id, Attempt: sb.Metadata.GetAttempt(), Ready: sb.State == runtimeapi.PodSandboxState_SANDBOX_READY,
			Created: time.Unix(0, sb.CreatedAt)}
		if s.Ready {
			s.IP = m.sandboxIP(ctx, sb.Id)
		}
		o.Sandboxes = append(o.Sandboxes, s)
	}
	for _, c := range cs.Containers {
		st, err := m.containerStatus(ctx, c.Id, c.State)
		if err != nil {
			continue // removed meanwhile
		}
		in := &Instance{
			ID: c.Id, SandboxID: c.PodSandboxId, Name: c.Metadata.GetName(), Attempt: c.Metadata.GetAttempt(),
			Init: c.Labels[labelContainerType] == "init", State: st.State, ExitCode: st.ExitCode,
			Reason: st.Reason, Message: st.Message, Image: st.GetImage().GetImage(), ImageRef: st.ImageRef,
			Created: time.Unix(0, st.CreatedAt), Hash: c.Annotations[annotationHash],
		}
		if st.StartedAt > 0 {
			in.Started = time.Unix(0, st.StartedAt)
		}
		if st.FinishedAt > 0 {
			in.Finished = time.Unix(0, st.FinishedAt)
		}
		if in.Exited() && in.Message == "" {
			in.Message = m.terminationMessage(uid, in.Name, in.Attempt)
		}
		o.Containers[in.Name] = append(o.Containers[in.Name], in)
	}
	sortObserved(o)
	return o, nil
}

func (m *Manager) sandboxIP(ctx context.Context, id string) string {
	m.cache.mu.Lock()
	ip, ok := m.cache.sandboxIPs[id]
	m.cache.mu.Unlock()
	if ok {
		return ip
	}
	st, err := m.cfg.Runtime.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
	if err != nil {
		return ""
	}
	ip = st.GetStatus().GetNetwork().GetIp()
	m.cache.mu.Lock()
	m.cache.sandboxIPs[id] = ip
	m.cache.mu.Unlock()
	return ip
}

// containerStatus returns the runtime's status of a container, from the
// cache when the state it was read in is still the state listed.
func (m *Manager) containerStatus(ctx context.Context, id string, listed runtimeapi.ContainerState) (*runtimeapi.ContainerStatus, error) {
	m.cache.mu.Lock()
	st, ok := m.cache.containers[id]
	m.cache.mu.Unlock()
	if ok && st.State == listed {
		return st, nil
	}
	resp, err := m.cfg.Runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		return nil, err
	}
	st = resp.Status
	if st.State == runtimeapi.ContainerState_CONTAINER_RUNNING || st.State == runtimeapi.ContainerState_CONTAINER_EXITED {
		m.cache.mu.Lock()
		m.cache.containers[id] = st
		m.cache.mu.Unlock()
	}
	return st, nil
}

// terminationMessagePath is the host file mounted at the container's
// terminationMessagePath.
func (m *Manager) terminationMessagePath(uid types.UID, name string, attempt uint32) string {
	return filepath.Join(m.cfg.PodsDir, string(uid), "containers", name, strconv.FormatUint(uint64(attempt), 10)+".termination-log")
}

// terminationMessage reads what an exited container wrote to its
// termination message file (at most 4096 bytes, as in Kubernetes).
func (m *Manager) terminationMessage(uid types.UID, name string, attempt uint32) string {
	f, err := os.Open(m.terminationMessagePath(uid, name, attempt))
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, _ := f.Read(buf)
	return string(buf[:n])
}
