package storage

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
)

// objectKey returns the key of an object below the resource prefix.
func (r *Resource) objectKey(namespace, name string) string {
	if r.cfg.Namespaced {
		return namespace + "/" + name
	}
	return name
}

// Get returns the object, read from etcd (a consistent read). The caller
// owns the returned object.
func (r *Resource) Get(ctx context.Context, namespace, name string) (runtime.Object, error) {
	resp, err := r.s.client.Get(ctx, r.prefix+r.objectKey(namespace, name))
	if err != nil {
		return nil, storageError(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, apierrors.NewNotFound(r.cfg.GroupResource, name)
	}
	return r.decode(resp.Kvs[0])
}

// GetCached returns the cached object, which may lag etcd slightly. The
// returned object is shared: callers must not modify it.
func (r *Resource) GetCached(namespace, name string) (runtime.Object, error) {
	e, err := r.cachedOrError(r.objectKey(namespace, name))
	if err != nil {
		return nil, err
	}
	if e != nil {
		return e.obj, nil
	}
	return nil, apierrors.NewNotFound(r.cfg.GroupResource, name)
}

// Create stores a new object and returns it with its resourceVersion set.
// It fails with AlreadyExists when the key exists.
func (r *Resource) Create(ctx context.Context, namespace, name string, obj runtime.Object) (runtime.Object, error) {
	data, err := encode(obj, r.cfg.Kind)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	key := r.prefix + r.objectKey(namespace, name)
	if data, err = r.toStorage(data, key); err != nil {
		return nil, err
	}
	resp, err := r.s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(data))).
		Commit()
	if err != nil {
		return nil, storageError(err)
	}
	if !resp.Succeeded {
		return nil, apierrors.NewAlreadyExists(r.cfg.GroupResource, name)
	}
	_ = setRV(obj, resp.Header.Revision)
	return obj, nil
}

// UpdateFunc computes the new state of an object from its current state.
// It receives a copy it may modify and may be called more than once when
// the object changes concurrently. Returning an error aborts the update.
type UpdateFunc func(current runtime.Object) (runtime.Object, error)

// Update changes an existing object with optimistic concurrency: tryUpdate
// runs against the latest state until the write succeeds without a
// concurrent change. When the new state encodes exactly like the current
// one, nothing is written and the current object is returned.
func (r *Resource) Update(ctx context.Context, namespace, name string, tryUpdate UpdateFunc) (runtime.Object, error) {
	key := r.prefix + r.objectKey(namespace, name)
	cur, rev, fromCache, err := r.current(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	for {
		updated, err := tryUpdate(cur.DeepCopyObject())
		if err != nil {
			if fromCache && (apierrors.IsConflict(err) || apierrors.IsNotFound(err)) {
				// The cache may be behind the client: decide on fresh data.
				if cur, rev, err = r.fromEtcd(ctx, key, name); err != nil {
					return nil, err
				}
				fromCache = false
				continue
			}
			return nil, err
		}
		data, err := encode(updated, r.cfg.Kind)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		// cur may be the cache's shared object: encode a copy, since
		// encoding touches metadata. Plain encodings are compared: a
		// transformer may encrypt with a random nonce.
		if old, err := encode(cur.DeepCopyObject(), r.cfg.Kind); err == nil && sameBytes(old, data) {
			return cur, nil
		}
		stored, err := r.toStorage(data, key)
		if err != nil {
			return nil, err
		}
		resp, err := r.s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpPut(key, string(stored))).
			Else(clientv3.OpGet(key)).
			Commit()
		if err != nil {
			return nil, storageError(err)
		}
		if resp.Succeeded {
			_ = setRV(updated, resp.Header.Revision)
			return updated, nil
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			return nil, apierrors.NewNotFound(r.cfg.GroupResource, name)
		}
		if cur, err = r.decode(kvs[0]); err != nil {
			return nil, err
		}
		rev, fromCache = kvs[0].ModRevision, false
	}
}

// current returns the object to start an update from: the cached copy when
// there is one (the write is conditional, so staleness only costs a retry).
func (r *Resource) current(ctx context.Context, namespace, name string) (runtime.Object, int64, bool, error) {
	e, err := r.cachedOrError(r.objectKey(namespace, name))
	if err != nil {
		return nil, 0, false, err
	}
	if e != nil {
		return e.obj, e.rev, true, nil
	}
	obj, rev, err := r.fromEtcd(ctx, r.prefix+r.objectKey(namespace, name), name)
	return obj, rev, false, err
}

func (r *Resource) fromEtcd(ctx context.Context, key, name string) (runtime.Object, int64, error) {
	resp, err := r.s.client.Get(ctx, key)
	if err != nil {
		return nil, 0, storageError(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, apierrors.NewNotFound(r.cfg.GroupResource, name)
	}
	obj, err := r.decode(resp.Kvs[0])
	if err != nil {
		return nil, 0, err
	}
	return obj, resp.Kvs[0].ModRevision, nil
}

// Delete removes the object after check (which may be nil) accepts its
// current state, and returns the last state.
func (r *Resource) Delete(ctx context.Context, namespace, name string, check func(current runtime.Object) error) (runtime.Object, error) {
	key := r.prefix + r.objectKey(namespace, name)
	cur, rev, fromCache, err := r.current(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	for {
		if check != nil {
			if err := check(cur); err != nil {
				if fromCache && apierrors.IsConflict(err) {
					if cur, rev, err = r.fromEtcd(ctx, key, name); err != nil {
						return nil, err
					}
					fromCache = false
					continue
				}
				return nil, err
			}
		}
		resp, err := r.s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpDelete(key)).
			Else(clientv3.OpGet(key)).
			Commit()
		if err != nil {
			return nil, storageError(err)
		}
		if resp.Succeeded {
			return cur, nil
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			return nil, apierrors.NewNotFound(r.cfg.GroupResource, name)
		}
		if cur, err = r.decode(kvs[0]); err != nil {
			return nil, err
		}
		rev, fromCache = kvs[0].ModRevision, false
	}
}

// storageError turns an etcd client error into an API error.
func storageError(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return apierrors.NewTimeoutError("etcd request timed out", 1)
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, rpctypes.ErrCompacted), errors.Is(err, rpctypes.ErrFutureRev):
		return apierrors.NewResourceExpired(err.Error())
	}
	return apierrors.NewInternalError(fmt.Errorf("etcd: %w", err))
}
