package e2e

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestMNNames(t *testing.T) {
	m := newMNNames(4194304, mnSlots-1) // the largest pid Linux hands out
	for _, link := range []string{m.hostVeth(), m.hubVeth(), m.nodeHubVeth(9)} {
		if len(link) > 15 {
			t.Errorf("link name %q longer than the kernel's 15 characters", link)
		}
	}
	if got := m.nodeNS(2); got != "mn-4194304-2" {
		t.Errorf("nodeNS(2) = %q", got)
	}
	setup := m.setupCommands(2)
	// Every namespace and link the setup creates is removed again.
	teardown := m.teardownCommands(2)
	for _, c := range setup {
		if c[0] == "ip" && c[1] == "netns" && c[2] == "add" {
			if !slices.ContainsFunc(teardown, func(d []string) bool { return strings.Join(d, " ") == "ip netns delete "+c[3] }) {
				t.Errorf("namespace %s is never deleted", c[3])
			}
		}
	}
	// Nothing the harness sets up routes off the machine: no default
	// route, and the host's routes for the harness's ranges refuse.
	for _, c := range setup {
		line := strings.Join(c, " ")
		if strings.Contains(line, "default") {
			t.Errorf("setup installs a default route: %s", line)
		}
		if strings.Contains(line, " route ") && !strings.Contains(line, "unreachable") {
			t.Errorf("setup installs a forwarding route: %s", line)
		}
	}
}

func TestMNNamesAddressesApart(t *testing.T) {
	var prefixes []netip.Prefix
	for slot := range mnSlots {
		m := newMNNames(1, slot)
		for _, c := range []string{m.clusterCIDR(), m.serviceCIDR(), m.serverIP() + "/24"} {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				t.Fatalf("slot %d: %v", slot, err)
			}
			prefixes = append(prefixes, p.Masked())
		}
		if ip := netip.MustParseAddr(m.nodeIP(3)); !netip.MustParsePrefix(m.serverIP() + "/24").Masked().Contains(ip) {
			t.Errorf("slot %d: node address %s outside the hub's /24", slot, ip)
		}
	}
	for i, a := range prefixes {
		for _, b := range prefixes[i+1:] {
			if a.Overlaps(b) {
				t.Errorf("ranges %s and %s overlap", a, b)
			}
		}
	}
}

func TestParseMNPods(t *testing.T) {
	const out = `echo-a mn-1 10.96.0.5 Running
echo-b mn-2 10.96.1.7 Running 2026-11-22T07:00:00Z
echo-c mn-3 10.96.2.2 Pending
echo-d  
`
	got := parseMNPods(out)
	if len(got) != 1 || got[0] != (mnPod{name: "echo-a", node: "mn-1", ip: "10.96.0.5"}) {
		t.Errorf("parseMNPods = %+v, want only echo-a", got)
	}
}

func TestParseCurlStatus(t *testing.T) {
	for _, tc := range []struct {
		out  string
		code int
		body string
	}{
		{"hostname=a\nmessage=x\n200", 200, "hostname=a\nmessage=x"},
		{"default backend - 404\n404", 404, "default backend - 404"},
		{"\n000", 0, ""},
		{"curl: (7) Failed to connect", 0, "curl: (7) Failed to connect"},
	} {
		code, body := parseCurlStatus(tc.out)
		if code != tc.code || body != tc.body {
			t.Errorf("parseCurlStatus(%q) = %d %q, want %d %q", tc.out, code, body, tc.code, tc.body)
		}
	}
}
