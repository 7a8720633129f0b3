package node

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func facts() Facts {
	return Facts{CPU: resource.MustParse("2"), Memory: resource.MustParse("24Gi"), EphemeralStorage: resource.MustParse("100Gi"), Pods: 110,
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.2"}}, Port: 10250}
}

func TestStatusConditions(t *testing.T) {
	n := &corev1.Node{}
	st := Status(facts(), n, t0)
	ready := Condition(st.Conditions, corev1.NodeReady)
	if ready == nil || ready.Status != corev1.ConditionTrue || ready.Reason != "KubeletReady" {
		t.Fatalf("ready = %+v", ready)
	}
	if q := st.Allocatable[corev1.ResourcePods]; q.Value() != 110 {
		t.Fatalf("pods = %v", q)
	}
	n.Status = st
	f := facts()
	f.NotReady = "network not ready"
	later := Status(f, n, t0.Add(time.Minute))
	r := Condition(later.Conditions, corev1.NodeReady)
	if r.Status != corev1.ConditionFalse || r.Message != "network not ready" || !r.LastTransitionTime.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("not ready = %+v", r)
	}
	mem := Condition(later.Conditions, corev1.NodeMemoryPressure)
	if !mem.LastTransitionTime.Time.Equal(t0) || !mem.LastHeartbeatTime.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("unchanged condition must keep its transition time: %+v", mem)
	}
}

func TestStale(t *testing.T) {
	n := &corev1.Node{}
	n.Status = Status(facts(), n, t0)
	if stale, due := Stale(n, Status(facts(), n, t0.Add(10*time.Second)), t0.Add(10*time.Second), time.Minute); stale || due != 50*time.Second {
		t.Fatalf("fresh status: stale=%v due=%v", stale, due)
	}
	if stale, _ := Stale(n, Status(facts(), n, t0.Add(61*time.Second)), t0.Add(61*time.Second), time.Minute); !stale {
		t.Fatal("old heartbeat must be stale")
	}
	f := facts()
	f.CPU = resource.MustParse("4")
	if stale, _ := Stale(n, Status(f, n, t0), t0, time.Minute); !stale {
		t.Fatal("changed capacity must be stale")
	}
}

func TestParsers(t *testing.T) {
	kb, err := MemTotalKB([]byte("MemTotal:       25165824 kB\nMemFree: 1 kB\n"))
	if err != nil || kb != 25165824 {
		t.Fatalf("MemTotalKB = %d, %v", kb, err)
	}
	if _, err := MemTotalKB([]byte("nothing")); err == nil {
		t.Fatal("want error")
	}
	if got := OSImage([]byte("NAME=x\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")); got != "Debian GNU/Linux 12 (bookworm)" {
		t.Fatalf("OSImage = %q", got)
	}
	if got := OSImage(nil); got != "Linux" {
		t.Fatalf("OSImage = %q", got)
	}
}

func TestLease(t *testing.T) {
	n := &corev1.Node{}
	n.Name, n.UID = "n1", "uid"
	l := Lease(n, 40*time.Second, t0)
	if l.Namespace != corev1.NamespaceNodeLease || *l.Spec.HolderIdentity != "n1" || *l.Spec.LeaseDurationSeconds != 40 || l.OwnerReferences[0].UID != "uid" {
		t.Fatalf("lease = %+v", l)
	}
}
