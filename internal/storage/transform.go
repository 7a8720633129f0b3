package storage

import (
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
)

// Transformer turns an object's serialised form into what is written to
// etcd and back, e.g. to encrypt it at rest. key is the object's full etcd
// key: implementations bind the stored value to it (AES-GCM additional data)
// so that a value copied under another key does not read back.
type Transformer interface {
	// ToStorage returns the value to write for plain at key.
	ToStorage(plain []byte, key string) ([]byte, error)
	// FromStorage returns the plain value stored at key. stale reports
	// that the value should be rewritten: it was written with a key that is
	// no longer the primary one, or without encryption while encryption is
	// on.
	FromStorage(stored []byte, key string) (plain []byte, stale bool, err error)
}

// errUnreadable marks a stored value that could not be decrypted or
// decoded.
var errUnreadable = errors.New("stored object cannot be decrypted or decoded")

// toStorage applies the resource's transformer, if any, to a serialised
// object about to be written at the full key.
func (r *Resource) toStorage(plain []byte, key string) ([]byte, error) {
	if r.cfg.Transformer == nil {
		return plain, nil
	}
	out, err := r.cfg.Transformer.ToStorage(plain, key)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("transforming %s for storage: %w", key, err))
	}
	return out, nil
}

// fromStorage returns the serialised object stored in kv.
func (r *Resource) fromStorage(kv *mvccpb.KeyValue) (plain []byte, stale bool, err error) {
	if r.cfg.Transformer == nil {
		return kv.Value, false, nil
	}
	plain, stale, err = r.cfg.Transformer.FromStorage(kv.Value, string(kv.Key))
	if err != nil {
		return nil, false, err
	}
	return plain, stale, nil
}

// decode turns a stored key-value into an object. Its errors are
// InternalErrors wrapping errUnreadable: as in Kubernetes, an object that
// cannot be read fails the requests that need it instead of vanishing.
func (r *Resource) decode(kv *mvccpb.KeyValue) (runtime.Object, error) {
	plain, _, err := r.fromStorage(kv)
	if err == nil {
		var obj runtime.Object
		if obj, err = decode(plain, kv.ModRevision, r.cfg.New, r.cfg.Kind); err == nil {
			return obj, nil
		}
	}
	return nil, unreadableError(string(kv.Key), err)
}

// unreadableError is the API error for an object whose stored value cannot
// be read.
func unreadableError(key string, err error) error {
	return apierrors.NewInternalError(fmt.Errorf("%w: %s: %w", errUnreadable, key, err))
}
