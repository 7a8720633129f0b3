package serviceaccount

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestIssuer(t *testing.T, c *clock, audiences ...string) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := New(IssuerConfig{Key: key, APIAudiences: audiences, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// objects is an in-memory object store behind Getters.
type objects struct {
	accounts map[string]*corev1.ServiceAccount
	secrets  map[string]*corev1.Secret
	pods     map[string]*corev1.Pod
	nodes    map[string]*corev1.Node
}

func newObjects() *objects {
	return &objects{accounts: map[string]*corev1.ServiceAccount{}, secrets: map[string]*corev1.Secret{},
		pods: map[string]*corev1.Pod{}, nodes: map[string]*corev1.Node{}}
}

func lookup[T any](m map[string]*T, resource, key string) (*T, error) {
	if o, ok := m[key]; ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: resource}, key)
}

func (o *objects) getters() Getters {
	return Getters{
		ServiceAccount: func(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
			return lookup(o.accounts, "serviceaccounts", ns+"/"+name)
		},
		Secret: func(_ context.Context, ns, name string) (*corev1.Secret, error) {
			return lookup(o.secrets, "secrets", ns+"/"+name)
		},
		Pod: func(_ context.Context, ns, name string) (*corev1.Pod, error) {
			return lookup(o.pods, "pods", ns+"/"+name)
		},
		Node: func(_ context.Context, name string) (*corev1.Node, error) { return lookup(o.nodes, "nodes", name) },
	}
}

func meta(ns, name, uid string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}
}
