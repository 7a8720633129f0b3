package simulator

import (
	"errors"
	"github.com/skiff-io/skiff/internal/agent/node"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testConfig(t *testing.T) *Config {
	t.Helper()
	cfg := &Config{Nodes: 3, Zones: []string{"z1", "z2"}, Labels: map[string]string{"pool": "sim"},
		Taints: []corev1.Taint{{Key: "dedicated", Value: "sim", Effect: corev1.TaintEffectNoSchedule}}}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestBuildNode(t *testing.T) {
	cfg := testConfig(t)
	n := buildNode(cfg, "sim-node-1", 1, t0)
	if n.Labels[corev1.LabelHostname] != "sim-node-1" || n.Labels[corev1.LabelTopologyZone] != "z2" || n.Labels["pool"] != "sim" ||
		n.Labels[corev1.LabelOSStable] != "linux" {
		t.Errorf("labels = %v", n.Labels)
	}
	if len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "dedicated" {
		t.Errorf("taints = %v", n.Spec.Taints)
	}
	cpu, mem, pods := n.Status.Capacity[corev1.ResourceCPU], n.Status.Capacity[corev1.ResourceMemory], n.Status.Allocatable[corev1.ResourcePods]
	if cpu.String() != "32" || mem.String() != "256Gi" || pods.Value() != 110 {
		t.Errorf("capacity = %v, allocatable = %v", n.Status.Capacity, n.Status.Allocatable)
	}
	if n.Status.NodeInfo.KubeletVersion != DefaultKubeletVersion || n.Status.NodeInfo.OperatingSystem != "linux" {
		t.Errorf("nodeInfo = %+v", n.Status.NodeInfo)
	}
	if n.Status.Addresses[0].Address != nodeIP("sim-node-", 1).String() || n.Status.Addresses[1].Address != "sim-node-1" {
		t.Errorf("addresses = %v", n.Status.Addresses)
	}
	want := map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeReady: corev1.ConditionTrue,
		corev1.NodeMemoryPressure: corev1.ConditionFalse, corev1.NodeDiskPressure: corev1.ConditionFalse, corev1.NodePIDPressure: corev1.ConditionFalse}
	for _, c := range n.Status.Conditions {
		if want[c.Type] != c.Status || !c.LastHeartbeatTime.Time.Equal(t0) {
			t.Errorf("condition %+v", c)
		}
		delete(want, c.Type)
	}
	if len(want) > 0 {
		t.Errorf("missing conditions %v", want)
	}
}

func TestNodeStatusStale(t *testing.T) {
	cfg := testConfig(t)
	fresh := buildNode(cfg, "n", 0, t0)
	interval := 40 * time.Second
	for _, tc := range []struct {
		name      string
		mut       func(*corev1.Node)
		now       time.Duration
		wantStale bool
		wantNext  time.Duration
	}{
		{"fresh", nil, 10 * time.Second, false, 30 * time.Second},
		{"heartbeat due", nil, 40 * time.Second, true, 0},
		{"marked Unknown by the controller", func(n *corev1.Node) {
			c := node.Condition(n.Status.Conditions, corev1.NodeReady)
			c.Status, c.Reason = corev1.ConditionUnknown, "NodeStatusUnknown"
		}, time.Second, true, 0},
		{"condition missing", func(n *corev1.Node) { n.Status.Conditions = n.Status.Conditions[:2] }, time.Second, true, 0},
		{"capacity changed", func(n *corev1.Node) { n.Status.Capacity = nil }, time.Second, true, 0},
	} {
		n := fresh.DeepCopy()
		if tc.mut != nil {
			tc.mut(n)
		}
		now := t0.Add(tc.now)
		stale, next := node.Stale(n, desiredNodeStatus(cfg, n, 0, now), now, interval)
		if stale != tc.wantStale || next != tc.wantNext {
			t.Errorf("%s: got (%v, %v), want (%v, %v)", tc.name, stale, next, tc.wantStale, tc.wantNext)
		}
	}
}

func TestDesiredNodeStatusKeepsTransitionTimes(t *testing.T) {
	cfg := testConfig(t)
	n := buildNode(cfg, "n", 0, t0)
	st := desiredNodeStatus(cfg, n, 0, t0.Add(time.Minute))
	for _, c := range st.Conditions {
		if !c.LastTransitionTime.Time.Equal(t0) || !c.LastHeartbeatTime.Time.Equal(t0.Add(time.Minute)) {
			t.Errorf("condition %s: transition %v heartbeat %v", c.Type, c.LastTransitionTime, c.LastHeartbeatTime)
		}
	}
	node.Condition(n.Status.Conditions, corev1.NodeReady).Status = corev1.ConditionUnknown
	st = desiredNodeStatus(cfg, n, 0, t0.Add(time.Minute))
	if c := node.Condition(st.Conditions, corev1.NodeReady); !c.LastTransitionTime.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("Ready back from Unknown keeps old transition time %v", c.LastTransitionTime)
	}
}

func TestLeaseDelay(t *testing.T) {
	for _, tc := range []struct {
		index, count int
		first        bool
		want         time.Duration
	}{
		{0, 1000, true, 10 * time.Second},
		{500, 1000, true, 15 * time.Second},
		{999, 1000, true, 19990 * time.Millisecond},
		{500, 1000, false, 10 * time.Second},
		{0, 1, true, 10 * time.Second},
	} {
		if got := leaseDelay(10*time.Second, tc.index, tc.count, tc.first); got != tc.want {
			t.Errorf("leaseDelay(%d of %d, first=%v) = %v, want %v", tc.index, tc.count, tc.first, got, tc.want)
		}
	}
}

func TestBuildLease(t *testing.T) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", UID: "u"}}
	l := node.Lease(n, 40*time.Second, t0)
	if l.Namespace != corev1.NamespaceNodeLease || *l.Spec.HolderIdentity != "n" || *l.Spec.LeaseDurationSeconds != 40 ||
		!l.Spec.RenewTime.Time.Equal(t0) || l.OwnerReferences[0].UID != "u" || l.OwnerReferences[0].Kind != "Node" {
		t.Errorf("lease = %+v", l)
	}
}

func TestIPPool(t *testing.T) {
	var p ipPool
	r := netip.MustParsePrefix("10.42.3.0/24")
	a, err := p.assign("ns/a", "1", []netip.Prefix{r})
	if err != nil || a[0].String() != "10.42.3.2" {
		t.Fatalf("first = %v, %v", a, err)
	}
	again, _ := p.assign("ns/a", "1", []netip.Prefix{r})
	if again[0] != a[0] {
		t.Errorf("same pod got another IP %v", again)
	}
	// A new pod of the same name (new uid) gets a new address.
	b, _ := p.assign("ns/a", "2", []netip.Prefix{r})
	if b[0] == a[0] {
		t.Errorf("recreated pod reused %v at once", b)
	}
	p.record("ns/old", "3", []netip.Addr{netip.MustParseAddr("10.42.3.4")})
	seen := map[netip.Addr]bool{b[0]: true, netip.MustParseAddr("10.42.3.4"): true}
	for i := 0; i < 251; i++ { // 253 usable addresses, two taken
		got, err := p.assign("ns/p"+string(rune('a'+i%26))+string(rune('a'+i/26)), "u", []netip.Prefix{r})
		if err != nil {
			t.Fatalf("assign %d: %v", i, err)
		}
		ip := got[0]
		if seen[ip] || ip.String() == "10.42.3.0" || ip.String() == "10.42.3.1" || ip.String() == "10.42.3.255" {
			t.Fatalf("assign %d handed out %v", i, ip)
		}
		seen[ip] = true
	}
	if _, err := p.assign("ns/full", "u", []netip.Prefix{r}); !errors.Is(err, errPoolFull) {
		t.Fatalf("assign from a full range: %v", err)
	}
	p.release("ns/old")
	if got, err := p.assign("ns/full", "u", []netip.Prefix{r}); err != nil || got[0].String() != "10.42.3.4" {
		t.Fatalf("after release: %v, %v", got, err)
	}
}

func TestIPPoolDualStack(t *testing.T) {
	var p ipPool
	got, err := p.assign("ns/a", "1", []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24"), netip.MustParsePrefix("fd00:1::/64")})
	if err != nil || len(got) != 2 || got[0].String() != "10.1.0.2" || got[1].String() != "fd00:1::2" {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestAddressing(t *testing.T) {
	a0, a1 := nodeIP("sim-node-", 0), nodeIP("sim-node-", 1)
	if a1.Compare(a0) <= 0 || a0.Next() != a1 {
		t.Errorf("nodes of one simulator are not numbered consecutively: %s, %s", a0, a1)
	}
	if !netip.MustParsePrefix("172.16.0.0/12").Contains(nodeIP("sim-node-", 4000)) {
		t.Errorf("node IP %s outside 172.16.0.0/12", nodeIP("sim-node-", 4000))
	}
	if nodeIP("sim-node-", 0) == nodeIP("sim-spare-", 0) {
		t.Errorf("two node pools share the address %s", nodeIP("sim-node-", 0))
	}
	if got := fallbackPodCIDR(0).String(); got != "100.64.0.0/24" {
		t.Errorf("fallbackPodCIDR(0) = %s", got)
	}
	if got := fallbackPodCIDR(257).String(); got != "100.65.1.0/24" {
		t.Errorf("fallbackPodCIDR(257) = %s", got)
	}
}

func TestParseTaintsAndLabels(t *testing.T) {
	taints, err := ParseTaints([]string{"a=b:NoSchedule", "c:NoExecute"})
	if err != nil || len(taints) != 2 || taints[0].Value != "b" || taints[1].Key != "c" || taints[1].Effect != corev1.TaintEffectNoExecute {
		t.Errorf("ParseTaints = %v, %v", taints, err)
	}
	for _, bad := range []string{"a=b", "a:Sometimes", "=b:NoSchedule"} {
		if _, err := ParseTaints([]string{bad}); err == nil {
			t.Errorf("ParseTaints(%q) accepted", bad)
		}
	}
	labels, err := ParseLabels([]string{"a=b", "c="})
	if err != nil || labels["a"] != "b" || labels["c"] != "" {
		t.Errorf("ParseLabels = %v, %v", labels, err)
	}
	if _, err := ParseLabels([]string{"nolabel"}); err == nil {
		t.Error("ParseLabels accepted a pair without =")
	}
}
