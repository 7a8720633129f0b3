package iptables

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// declared returns the chains an iptables-restore input declares (writes
// or flushes), and those it deletes.
func declared(input string) (written, deleted []string) {
	del := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^-X (\S+)$`).FindAllStringSubmatch(input, -1) {
		del[m[1]] = true
		deleted = append(deleted, m[1])
	}
	for _, m := range regexp.MustCompile(`(?m)^:(\S+) - \[0:0\]$`).FindAllStringSubmatch(input, -1) {
		if !del[m[1]] {
			written = append(written, m[1])
		}
	}
	sort.Strings(written)
	sort.Strings(deleted)
	return written, deleted
}

func threeServices() *state.State {
	return st(web(nil),
		web(func(sp *state.ServicePort) { sp.Name = "api"; sp.ClusterIP = "10.96.0.20" }),
		web(func(sp *state.ServicePort) { sp.Name = "db"; sp.ClusterIP = "10.96.0.30" }))
}

func TestDiffRewritesOnlyChangedChains(t *testing.T) {
	before := threeServices()
	after := threeServices()
	api := &after.Services[1]
	oldEP := api.Endpoints[1]
	api.Endpoints[1] = ep("10.42.1.99", 8080, "node-b")

	if d := Diff(Rules(before), Rules(threeServices())); d != nil {
		t.Fatalf("no change produced input:\n%s", d)
	}
	input := string(Diff(Rules(before), Rules(after)))
	written, deleted := declared(input)
	wantWritten := []string{svcChain(api), sepChain(api, api.Endpoints[1])}
	sort.Strings(wantWritten)
	if !slices.Equal(written, wantWritten) {
		t.Errorf("written chains %v, want %v\ninput:\n%s", written, wantWritten, input)
	}
	if want := []string{sepChain(api, oldEP)}; !slices.Equal(deleted, want) {
		t.Errorf("deleted chains %v, want %v", deleted, want)
	}
	if strings.Contains(input, "*filter") {
		t.Errorf("filter table rewritten although unchanged:\n%s", input)
	}
	if !strings.HasSuffix(input, "COMMIT\n") || strings.Count(input, "COMMIT") != 1 {
		t.Errorf("want exactly one nat transaction:\n%s", input)
	}
}

func TestDiffLosingAllEndpointsTouchesBothTables(t *testing.T) {
	before := threeServices()
	after := threeServices()
	after.Services[0].Endpoints = nil // web
	written, deleted := declared(string(Diff(Rules(before), Rules(after))))
	w := &after.Services[0]
	for _, c := range []string{ChainServices} {
		if !slices.Contains(written, c) {
			t.Errorf("%s not rewritten: %v", c, written)
		}
	}
	if !slices.Contains(deleted, svcChain(w)) || len(deleted) != 4 {
		t.Errorf("deleted %v, want the SVC chain and 3 SEP chains", deleted)
	}
}

// fakeExec records commands and answers them like the iptables tools.
type fakeExec struct {
	mu       sync.Mutex
	calls    []string
	restores []string
	save     map[string]string // table -> iptables-save output
	failOn   string            // a command prefix that fails
	jumps    map[string]bool
}

func (f *fakeExec) Exec(_ context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := strings.Join(append([]string{name}, args...), " ")
	f.calls = append(f.calls, call)
	if f.failOn != "" && strings.HasPrefix(call, f.failOn) {
		return []byte("boom"), fmt.Errorf("exit status 1")
	}
	switch name {
	case "iptables-restore":
		f.restores = append(f.restores, string(stdin))
	case "iptables-save":
		return []byte(f.save[args[len(args)-1]]), nil
	case "iptables":
		key := strings.Join(args[4:], " ")
		switch args[4] {
		case "-C":
			if !f.jumps[strings.TrimPrefix(key, "-C ")] {
				return nil, fmt.Errorf("exit status 1")
			}
		case "-I":
			f.jumps[strings.Replace(strings.TrimPrefix(key, "-I "), " 1 ", " ", 1)] = true
		}
	}
	return nil, nil
}

func TestSyncer(t *testing.T) {
	ctx := context.Background()
	f := &fakeExec{jumps: map[string]bool{}, save: map[string]string{
		TableNAT: "*nat\n:PREROUTING ACCEPT [0:0]\n:SKIFF-SEP-STALESTALESTALE - [0:0]\n:KUBE-SERVICES - [0:0]\nCOMMIT\n",
	}}
	s := NewSyncer(f, nil)

	// First sync: full, removes the stale chain, adds the jumps.
	if _, err := s.Sync(ctx, threeServices()); err != nil {
		t.Fatal(err)
	}
	if len(f.restores) != 1 {
		t.Fatalf("%d restores, want 1", len(f.restores))
	}
	_, deleted := declared(f.restores[0])
	if !slices.Equal(deleted, []string{"SKIFF-SEP-STALESTALESTALE"}) {
		t.Errorf("deleted %v, want the stale chain only", deleted)
	}
	if len(f.jumps) != len(Jumps()) {
		t.Errorf("%d jumps added, want %d", len(f.jumps), len(Jumps()))
	}

	// Unchanged state: nothing runs at all.
	f.calls = nil
	if n, err := s.Sync(ctx, threeServices()); err != nil || n != 0 || len(f.calls) != 0 {
		t.Fatalf("idle sync: n=%d err=%v calls=%v", n, err, f.calls)
	}

	// One endpoint changes: one small restore, no jump checks.
	after := threeServices()
	after.Services[0].Endpoints = after.Services[0].Endpoints[:2]
	if _, err := s.Sync(ctx, after); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 1 || !strings.HasPrefix(f.calls[0], "iptables-restore -w 5 --noflush") {
		t.Fatalf("calls %v, want one iptables-restore --noflush", f.calls)
	}
	written, deleted := declared(f.restores[len(f.restores)-1])
	if len(written) != 1 || len(deleted) != 1 {
		t.Errorf("wrote %v and deleted %v, want the SVC chain and one SEP chain", written, deleted)
	}

	// A failed restore forces a full sync next time.
	f.failOn = "iptables-restore"
	if _, err := s.Sync(ctx, threeServices()); err == nil {
		t.Fatal("sync succeeded although iptables-restore failed")
	}
	f.failOn = ""
	f.calls = nil
	if _, err := s.Sync(ctx, threeServices()); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(f.calls, func(c string) bool { return strings.HasPrefix(c, "iptables-save") }) {
		t.Errorf("sync after failure was not full: %v", f.calls)
	}
	written, _ = declared(f.restores[len(f.restores)-1])
	if !slices.Contains(written, ChainServices) {
		t.Errorf("full sync did not rewrite %s: %v", ChainServices, written)
	}
}
