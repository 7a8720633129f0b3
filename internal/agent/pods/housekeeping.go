package pods

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// housekeepingPeriod is how often leftovers of pods that went away while
// the agent was not looking (volume directories) are removed.
const housekeepingPeriod = time.Minute

// podDirLister is implemented by volume managers that can list the pods
// they hold directories for.
type podDirLister interface {
	PodDirs() ([]types.UID, error)
}

// housekeeping removes the volume directories of pods that neither the API
// server nor the runtime knows any more.
func (m *Manager) housekeeping(ctx context.Context) {
	dirs, ok := m.cfg.Volumes.(podDirLister)
	if !ok {
		return
	}
	if !cache.WaitForCacheSync(ctx.Done(), m.cfg.Pods.HasSynced) {
		return
	}
	t := time.NewTicker(housekeepingPeriod)
	defer t.Stop()
	for {
		m.removeOrphanDirs(ctx, dirs)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Manager) removeOrphanDirs(ctx context.Context, dirs podDirLister) {
	uids, err := dirs.PodDirs()
	if err != nil {
		return
	}
	known := map[types.UID]bool{}
	for _, p := range m.Pods() {
		known[p.UID] = true
	}
	sbs, err := m.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return
	}
	for _, sb := range sbs.Items {
		known[types.UID(sb.Labels[labelPodUID])] = true
	}
	for _, uid := range uids {
		if known[uid] {
			continue
		}
		if err := m.cfg.Volumes.Teardown(ctx, uid); err != nil {
			m.cfg.Logger.Warn("removing leftover pod directory", "uid", uid, "err", err)
		}
	}
}
