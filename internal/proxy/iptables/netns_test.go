package iptables

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// scratchNetns creates an empty network namespace for the test (root
// only; skipped otherwise) and deletes it afterwards.
func scratchNetns(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	for _, tool := range []string{"ip", "iptables-restore", "iptables-save", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	name := fmt.Sprintf("skfproxy-i-%d-%d", os.Getpid(), time.Now().UnixNano()%100000)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return name
}

func TestSyncerKernel(t *testing.T) {
	ns := scratchNetns(t)
	ctx := t.Context()
	s := NewSyncer(NetnsExecutor{Netns: ns}, nil)
	save := func() string {
		out, err := exec.Command("ip", "netns", "exec", ns, "iptables-save").CombinedOutput()
		if err != nil {
			t.Fatalf("iptables-save: %v: %s", err, out)
		}
		return string(out)
	}
	st := bigState(3, 2)
	st.Services[1].AffinitySeconds = 30
	st.Services[2].ExternalPolicyLocal = true
	st.Services[2].Endpoints[0].NodeName = node
	for range 2 { // the second sync is full again: jumps must not repeat
		if _, err := s.Sync(ctx, st); err != nil {
			t.Fatal(err)
		}
		s.ForceFull()
	}
	out := save()
	for _, j := range Jumps() {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "-A "+j.Chain+" ") && strings.HasSuffix(line, "-j "+j.Args[len(j.Args)-1]) {
				found = true
			}
		}
		if !found {
			t.Errorf("jump %s/%s -> %s missing", j.Table, j.Chain, j.Args[len(j.Args)-1])
		}
	}
	if n := strings.Count(out, "-A PREROUTING"); n != 1 {
		t.Errorf("%d PREROUTING rules after two full syncs, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "-m recent --rcheck --seconds 30 --reap") {
		t.Errorf("affinity rule missing:\n%s", out)
	}
	if !s.Intact(ctx) {
		t.Error("rules not intact after a sync")
	}
	if out, err := exec.Command("ip", "netns", "exec", ns, "iptables", "-t", "nat", "-F", "PREROUTING").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if s.Intact(ctx) {
		t.Error("rules intact after PREROUTING was flushed")
	}
	if err := s.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if out := save(); strings.Contains(out, "SKIFF-") {
		t.Errorf("cleanup left rules:\n%s", out)
	}
}
