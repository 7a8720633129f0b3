package pods

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// relistPeriod is how often the runtime is asked for container states.
// containerd 1.6 has no CRI event stream, so exits are found by listing,
// as the kubelet's PLEG does.
const relistPeriod = time.Second

// relist enqueues every pod whose containers or sandboxes changed state
// since the last listing. The first listing enqueues every pod the
// runtime knows, which also finds the leftovers of pods deleted while the
// agent was down.
func (m *Manager) relist(ctx context.Context) {
	seen := map[string]string{} // id -> state
	t := time.NewTicker(relistPeriod)
	defer t.Stop()
	for {
		now := map[string]string{}
		changed := map[string]bool{}
		note := func(id, state string, labels map[string]string) {
			now[id] = state
			if seen[id] != state {
				changed[labels[labelPodNamespace]+"/"+labels[labelPodName]] = true
			}
		}
		cs, err := m.cfg.Runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
		if err == nil {
			for _, c := range cs.Containers {
				note(c.Id, c.State.String(), c.Labels)
			}
		}
		sbs, err2 := m.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
		if err2 == nil {
			for _, sb := range sbs.Items {
				note(sb.Id, sb.State.String(), sb.Labels)
			}
		}
		if err == nil && err2 == nil {
			for id := range seen {
				if _, ok := now[id]; !ok {
					delete(seen, id)
				}
			}
			for id, st := range now {
				seen[id] = st
			}
			for key := range changed {
				if key != "/" {
					m.ctrl.Enqueue(key)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
