package replicaset

import (
	"testing"
	"time"
)

func TestExpectations(t *testing.T) {
	now := t0
	e := newExpectations(func() time.Time { return now })
	if !e.satisfied("k", "u1") {
		t.Fatalf("nothing recorded: satisfied")
	}
	e.expectCreations("k", "u1", 2)
	if e.satisfied("k", "u1") {
		t.Fatalf("2 creations pending: not satisfied")
	}
	if !e.satisfied("k", "u2") {
		t.Fatalf("a re-created object (new UID) is not held back by the old one's expectations")
	}
	e.creationObserved("k")
	e.creationObserved("k")
	if !e.satisfied("k", "u1") {
		t.Fatalf("all creations observed: satisfied")
	}
	e.expectDeletions("k", "u1", []string{"ns/a", "ns/b"})
	e.deletionObserved("k", "ns/a")
	e.deletionObserved("k", "ns/a") // terminating, then gone: counts once
	if e.satisfied("k", "u1") {
		t.Fatalf("ns/b still pending: not satisfied")
	}
	now = now.Add(expectationsTTL + time.Second)
	if !e.satisfied("k", "u1") {
		t.Fatalf("expired expectations: satisfied")
	}
	e.forget("k")
	if !e.satisfied("k", "u1") {
		t.Fatalf("forgotten: satisfied")
	}
}
