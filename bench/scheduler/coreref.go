package main

import (
	"context"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/scheduler/cache"
	"github.com/skiff-io/skiff/internal/scheduler/core"
	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/plugins"
	"k8s.io/apimachinery/pkg/types"
)

// coreResult is the in-memory reference: the scheduling algorithm and the
// cache alone, no API server.
type coreResult struct {
	Pods, Nodes, Parallelism int
	Wall                     time.Duration
}

func (r coreResult) perSecond() float64 { return float64(r.Pods) / r.Wall.Seconds() }

// runCoreReference places pods onto nodes exactly as the scheduler's loop
// does (refresh the snapshot, run the default plugins, assume the pod in
// the cache) without any I/O.
func runCoreReference(ctx context.Context, nodes, pods, zones, parallelism int, cpu, mem string) (coreResult, error) {
	c := cache.New(nil)
	for i := 0; i < nodes; i++ {
		c.AddNode(fakeNode(i, zones, cpu, mem))
	}
	fw, err := plugins.NewDefaultFramework(plugins.Handle{}, parallelism)
	if err != nil {
		return coreResult{}, err
	}
	algo := core.New(fw, 0, 1)
	snap := framework.NewEmptySnapshot()
	infos := make([]*framework.PodInfo, pods)
	for i := range infos {
		p := benchPod(fmt.Sprintf("core-%06d", i), "default-scheduler")
		p.Namespace, p.UID = "core", types.UID(fmt.Sprintf("uid-%d", i))
		infos[i] = framework.NewPodInfo(p, 0)
	}
	start := time.Now()
	for _, pi := range infos {
		c.UpdateSnapshot(snap)
		res, _, err := algo.Schedule(ctx, snap, pi, nil)
		if err != nil {
			return coreResult{}, fmt.Errorf("scheduling %s: %w", pi.Key(), err)
		}
		if err := c.AssumePod(pi, res.Node); err != nil {
			return coreResult{}, err
		}
	}
	return coreResult{Pods: pods, Nodes: nodes, Parallelism: parallelism, Wall: time.Since(start)}, nil
}
