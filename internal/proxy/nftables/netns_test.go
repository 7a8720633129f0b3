package nftables

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"sigs.k8s.io/knftables"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// inNetns runs fn on a locked thread switched into the namespace; the
// thread is discarded afterwards.
func inNetns(name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + name)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

type netnsNFT struct {
	knftables.Interface
	netns string
}

func (n netnsNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	return inNetns(n.netns, func() error { return n.Interface.Run(ctx, tx) })
}

func (n netnsNFT) List(ctx context.Context, objectType string) (out []string, err error) {
	err = inNetns(n.netns, func() error { out, err = n.Interface.List(ctx, objectType); return err })
	return out, err
}

// scratchNFT returns knftables for a fresh network namespace (root and
// nft only), deleted afterwards.
func scratchNFT(t testing.TB) (knftables.Interface, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed")
	}
	name := fmt.Sprintf("skfproxy-nf-%d-%d", os.Getpid(), time.Now().UnixNano()%100000)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	var nft knftables.Interface
	if err := inNetns(name, func() (err error) { nft, err = knftables.New(knftables.IPv4Family, TableName); return err }); err != nil {
		t.Fatal(err)
	}
	return netnsNFT{nft, name}, name
}

// TestKernelSync applies states to a real kernel: the partial sync must
// be accepted by nft and leave what a full sync would.
func TestKernelSync(t *testing.T) {
	nft, ns := scratchNFT(t)
	ctx := t.Context()
	s := NewWithInterface(nft)
	list := func() string {
		out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "table", "ip", TableName).CombinedOutput()
		if err != nil {
			t.Fatalf("nft list: %v: %s", err, out)
		}
		return string(out)
	}
	if _, err := s.Sync(ctx, many(10)); err != nil {
		t.Fatal(err)
	}
	next := many(10)
	next.Services[0].AffinitySeconds = 7
	next.Services[4].Endpoints[1].IP = "10.42.9.9"
	next.Services[5].Endpoints = nil
	next.Services = next.Services[:9]
	if _, err := s.Sync(ctx, next); err != nil {
		t.Fatal(err)
	}
	partial := list()
	s.ForceFull() // a full sync of the same state replaces the table
	if _, err := s.Sync(ctx, next); err != nil {
		t.Fatal(err)
	}
	// Objects list in creation order, so compare the sorted lines.
	if full := list(); sortedLines(full) != sortedLines(partial) {
		t.Errorf("partial and full sync differ:\n--- partial\n%s\n--- full\n%s", partial, full)
	}
	for _, want := range []string{"10.42.9.9:8080", "timeout 7s", "goto reject-chain"} {
		if !strings.Contains(partial, want) {
			t.Errorf("table lacks %q:\n%s", want, partial)
		}
	}
}

// bigState is n Services with eps endpoints each.
func bigState(n, eps int) *state.State {
	s := st()
	for i := 0; i < n; i++ {
		sp := state.ServicePort{Namespace: "ns", Name: fmt.Sprintf("svc-%05d", i), PortName: "http", Protocol: state.TCP,
			ClusterIP: fmt.Sprintf("10.96.%d.%d", i/250, i%250+1), Port: 80, NodePort: int32(30000 + i%2000)}
		for j := 0; j < eps; j++ {
			sp.Endpoints = append(sp.Endpoints, ep(fmt.Sprintf("10.42.%d.%d", (i*eps+j)/250%256, (i*eps+j)%250+1), "node-b"))
		}
		s.Services = append(s.Services, sp)
	}
	return s
}

// BenchmarkKernelSync10k applies 10,000 Services with 5 endpoints each to
// a fresh namespace (reported as full-sync-ms), then times one endpoint
// change per iteration.
func BenchmarkKernelSync10k(b *testing.B) {
	nft, _ := scratchNFT(b)
	ctx := b.Context()
	s := NewWithInterface(nft)
	st := bigState(10000, 5)
	start := time.Now()
	if _, err := s.Sync(ctx, st); err != nil {
		b.Fatal(err)
	}
	full := time.Since(start)
	b.ResetTimer()
	for i := range b.N {
		st.Services[i%10000].Endpoints[i%5].IP = fmt.Sprintf("10.44.%d.%d", i/250%256, i%250+1)
		if _, err := s.Sync(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(full.Milliseconds()), "full-sync-ms")
}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(lines[i]), ","))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
