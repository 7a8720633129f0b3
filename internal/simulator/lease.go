package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	nodepkg "github.com/skiff-io/skiff/internal/agent/node"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// leaseDelay is how long after a renewal the next one is due. The first
// renewal of each node is shifted by a fraction of the interval that
// depends on its index, so that nodes registered together do not renew
// in lockstep.
func leaseDelay(interval time.Duration, index, count int, first bool) time.Duration {
	if !first || count <= 1 {
		return interval
	}
	return interval + time.Duration(int64(interval)*int64(index%count)/int64(count))
}

// renewLease moves a lease's renewTime to now.
func (s *Simulator) renewLease(ctx context.Context, name string, now time.Time) error {
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{
		"holderIdentity":       name,
		"leaseDurationSeconds": int32(s.cfg.LeaseDuration / time.Second),
		"renewTime":            metav1.MicroTime{Time: now},
	}})
	if err != nil {
		return err
	}
	_, err = s.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// syncLease renews a node's lease, creating it on the first renewal
// since start (or after someone deleted it).
func (s *Simulator) syncLease(ctx context.Context, name string) error {
	n := s.byName[name]
	if n == nil || n.stopped.Load() {
		return nil
	}
	n.mu.Lock()
	gone, created, haveLease := n.gone, n.created, n.haveLease
	n.mu.Unlock()
	if gone || !created {
		return nil
	}
	now := s.cfg.Now()
	first := false
	var err error
	if haveLease {
		err = s.renewLease(ctx, name, now)
	} else {
		node, gerr := s.nodes.Get(name)
		if gerr != nil {
			// The node informer has not caught up with our registration yet.
			return controller.RequeueAfter(200 * time.Millisecond)
		}
		lease := nodepkg.Lease(node, s.cfg.LeaseDuration, now)
		_, err = s.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctx, lease, metav1.CreateOptions{})
		first = err == nil
		if apierrors.IsAlreadyExists(err) {
			err = s.renewLease(ctx, name, now)
		}
	}
	n.mu.Lock()
	n.haveLease = err == nil
	n.mu.Unlock()
	if apierrors.IsNotFound(err) {
		return controller.RequeueAfter(0) // deleted: create it again
	}
	if err != nil {
		return fmt.Errorf("renewing lease of node %s: %w", name, err)
	}
	return controller.RequeueAfter(leaseDelay(s.cfg.RenewInterval, n.index, len(s.names), first))
}
