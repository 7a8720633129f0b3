package garbagecollector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/util/retry"
)

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

func (c *Controller) client(n *node) metadata.ResourceInterface {
	if n.namespace == "" {
		return c.cfg.Metadata.Resource(n.gvr)
	}
	return c.cfg.Metadata.Resource(n.gvr).Namespace(n.namespace)
}

// getLive reads the object of n from the server; nil when it no longer
// exists (or was replaced by another object of the same name).
func (c *Controller) getLive(ctx context.Context, n *node) (*node, error) {
	obj, err := c.client(n).Get(ctx, n.name, metav1.GetOptions{})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", describe(n), err)
	}
	if obj.UID != n.uid {
		return nil, nil
	}
	live := n.clone()
	live.owners = obj.OwnerReferences
	live.deleting = obj.DeletionTimestamp != nil
	live.finalizers = obj.Finalizers
	live.resourceVersion = obj.ResourceVersion
	return live, nil
}

// patchMeta applies a JSON merge patch to an object's metadata,
// conditional on its resourceVersion.
func (c *Controller) patchMeta(ctx context.Context, n *node, rv string, fields map[string]interface{}) error {
	meta := map[string]interface{}{"resourceVersion": rv}
	for k, v := range fields {
		meta[k] = v
	}
	data, err := json.Marshal(map[string]interface{}{"metadata": meta})
	if err != nil {
		return err
	}
	_, err = c.client(n).Patch(ctx, n.name, types.MergePatchType, data, metav1.PatchOptions{})
	return err
}

// updateLive re-reads an object and applies change to it until the write
// does not conflict. change returns the metadata fields to write, or nil
// when nothing needs changing. A vanished object is not an error.
func (c *Controller) updateLive(ctx context.Context, n *node, change func(live *node) map[string]interface{}) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := c.getLive(ctx, n)
		if err != nil || live == nil {
			return err
		}
		fields := change(live)
		if fields == nil {
			return nil
		}
		return c.patchMeta(ctx, live, live.resourceVersion, fields)
	})
	if isNotFound(err) {
		return nil
	}
	return err
}

// removeRefs drops the references to the given owners from an object.
func (c *Controller) removeRefs(ctx context.Context, n *node, owners []types.UID) error {
	return c.updateLive(ctx, n, func(live *node) map[string]interface{} {
		kept := withoutRefs(live.owners, owners)
		if len(kept) == len(live.owners) {
			return nil
		}
		return map[string]interface{}{"ownerReferences": kept}
	})
}

// unblock clears blockOwnerDeletion on every reference of an object.
func (c *Controller) unblock(ctx context.Context, n *node) error {
	return c.updateLive(ctx, n, func(live *node) map[string]interface{} {
		refs, changed := unblocked(live.owners)
		if !changed {
			return nil
		}
		return map[string]interface{}{"ownerReferences": refs}
	})
}

// removeFinalizer drops one finalizer from an object being deleted; the
// server deletes the object when it was the last.
func (c *Controller) removeFinalizer(ctx context.Context, n *node, finalizer string) error {
	err := c.updateLive(ctx, n, func(live *node) map[string]interface{} {
		if !slices.Contains(live.finalizers, finalizer) {
			return nil
		}
		kept := slices.DeleteFunc(slices.Clone(live.finalizers), func(f string) bool { return f == finalizer })
		return map[string]interface{}{"finalizers": kept}
	})
	if err != nil {
		return fmt.Errorf("removing finalizer %s from %s: %w", finalizer, describe(n), err)
	}
	return nil
}

// deleteObject deletes the object, only that incarnation of it and, when
// n was read from the server, only if it has not changed since (the
// decision was made on that version). A conflict is returned, so that the
// object is looked at again.
func (c *Controller) deleteObject(ctx context.Context, n *node, policy metav1.DeletionPropagation) error {
	uid := n.uid
	pre := &metav1.Preconditions{UID: &uid}
	if n.resourceVersion != "" {
		rv := n.resourceVersion
		pre.ResourceVersion = &rv
	}
	err := c.client(n).Delete(ctx, n.name, metav1.DeleteOptions{Preconditions: pre, PropagationPolicy: &policy})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting %s: %w", describe(n), err)
	}
	return nil
}

// absentCache remembers owners verified absent, by UID and the namespace
// they were looked up in. A UID never comes back, so entries never go
// stale; the cache is simply emptied when it reaches its size.
type absentCache struct {
	mu   sync.Mutex
	max  int
	uids map[absentKey]struct{}
}

type absentKey struct {
	uid       types.UID
	namespace string
}

func newAbsentCache(max int) *absentCache {
	return &absentCache{max: max, uids: map[absentKey]struct{}{}}
}

func (a *absentCache) add(uid types.UID, namespace string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.uids) >= a.max {
		a.uids = map[absentKey]struct{}{}
	}
	a.uids[absentKey{uid, namespace}] = struct{}{}
}

func (a *absentCache) has(uid types.UID, namespace string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.uids[absentKey{uid, namespace}]
	return ok
}
