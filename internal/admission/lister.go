package admission

import (
	"context"

	"github.com/skiff-io/skiff/internal/storage"
	"k8s.io/apimachinery/pkg/runtime"
)

// Lister reads one resource's objects from the API server's cache. The
// returned objects are shared and must not be modified.
type Lister interface {
	List(namespace string) ([]runtime.Object, error)
}

// StoreLister lists from a storage resource's cache.
type StoreLister struct{ Store *storage.Resource }

// List implements Lister; namespace "" lists every namespace.
func (l StoreLister) List(namespace string) ([]runtime.Object, error) {
	res, err := l.Store.List(context.Background(), storage.ListOptions{Namespace: namespace, ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	return res.Items, nil
}
