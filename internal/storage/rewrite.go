package storage

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// rewritePage is how many keys Rewrite and ForEachStored read per etcd
// request.
const rewritePage = 500

// ForEachStored calls fn with the full key and the value as stored in etcd
// (possibly encrypted) of every object of the resource, in key order, at
// the latest revision of each page. It stops at fn's first error.
func (r *Resource) ForEachStored(ctx context.Context, fn func(key string, stored []byte) error) error {
	return r.eachKV(ctx, func(kv *mvccpb.KeyValue) error { return fn(string(kv.Key), kv.Value) })
}

func (r *Resource) eachKV(ctx context.Context, fn func(kv *mvccpb.KeyValue) error) error {
	end := clientv3.GetPrefixRangeEnd(r.prefix)
	start := r.prefix
	for {
		resp, err := r.s.client.Get(ctx, start, clientv3.WithRange(end), clientv3.WithLimit(rewritePage))
		if err != nil {
			return storageError(err)
		}
		for _, kv := range resp.Kvs {
			if err := fn(kv); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Rewrite writes back, through the resource's transformer, every stored
// value the transformer reports stale (e.g. encrypted with a key that is no
// longer the primary one), so that key rotation can drop old keys. Each
// write is a compare-and-swap on the value's mod revision, and the decoded
// object is unchanged (its resourceVersion moves on, as with any write). It
// returns how many values it rewrote; values it cannot read are skipped and
// reported in the error after every other value was handled.
func (r *Resource) Rewrite(ctx context.Context) (int, error) {
	if r.cfg.Transformer == nil {
		return 0, nil
	}
	rewritten := 0
	var failed []error
	err := r.eachKV(ctx, func(kv *mvccpb.KeyValue) error {
		done, err := r.rewriteKey(ctx, kv)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			failed = append(failed, err)
		}
		if done {
			rewritten++
		}
		return nil
	})
	if err != nil {
		return rewritten, fmt.Errorf("rewriting %s: %w", r.cfg.GroupResource, err)
	}
	if len(failed) > 0 {
		return rewritten, fmt.Errorf("rewriting %s: %d value(s) not rewritten: %w", r.cfg.GroupResource, len(failed), errors.Join(failed...))
	}
	return rewritten, nil
}

// rewriteKey rewrites one stale value, retrying on concurrent changes
// against the newest value; it reports whether it wrote.
func (r *Resource) rewriteKey(ctx context.Context, kv *mvccpb.KeyValue) (bool, error) {
	key := string(kv.Key)
	for {
		plain, stale, err := r.fromStorage(kv)
		if err != nil {
			return false, fmt.Errorf("%s: %w", key, err)
		}
		if !stale {
			return false, nil
		}
		stored, err := r.toStorage(plain, key)
		if err != nil {
			return false, err
		}
		resp, err := r.s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)).
			Then(clientv3.OpPut(key, string(stored))).
			Else(clientv3.OpGet(key)).
			Commit()
		if err != nil {
			return false, storageError(err)
		}
		if resp.Succeeded {
			return true, nil
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			return false, nil // deleted meanwhile: nothing to rewrite
		}
		kv = kvs[0]
	}
}
