package pki

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFirstServiceIP(t *testing.T) {
	tests := []struct {
		cidr    string
		want    string
		wantLen int
		wantErr bool
	}{
		{cidr: "10.43.0.0/16", want: "10.43.0.1", wantLen: 4},
		{cidr: "10.96.0.0/12", want: "10.96.0.1", wantLen: 4},
		{cidr: "10.43.7.9/16", want: "10.43.0.1", wantLen: 4}, // host bits ignored
		{cidr: "fd00:43::/112", want: "fd00:43::1", wantLen: 16},
		{cidr: "10.0.0.0/31", want: "10.0.0.1", wantLen: 4},
		{cidr: "10.0.0.5/32", wantErr: true},
		{cidr: "fd00::/128", wantErr: true},
		{cidr: "10.43.0.0", wantErr: true},
		{cidr: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			got, err := FirstServiceIP(tt.cidr)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("FirstServiceIP(%q) = %v, want error", tt.cidr, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("FirstServiceIP(%q): %v", tt.cidr, err)
			}
			if !got.Equal(net.ParseIP(tt.want)) || len(got) != tt.wantLen {
				t.Errorf("FirstServiceIP(%q) = %v (len %d), want %s (len %d)", tt.cidr, got, len(got), tt.want, tt.wantLen)
			}
		})
	}
}

func TestRequiredSANs(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		mutate  func(*env)
		wantDNS []string
		wantIPs []string
		notIPs  []string
		notDNS  []string
		wantErr string
	}{
		{
			name: "defaults",
			cfg:  Config{ServiceCIDR: "10.43.0.0/16"},
			wantDNS: []string{"localhost", "node-1.example", "kubernetes", "kubernetes.default",
				"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			wantIPs: []string{"127.0.0.1", "::1", "192.168.5.7", "2001:db8::7", "10.43.0.1"},
			notIPs:  []string{"fe80::1"},
		},
		{
			name:    "dual stack and extras",
			cfg:     Config{ServiceCIDR: "10.44.0.0/16, fd00:44::/108", ExtraSANs: []string{"api.example.com", " 203.0.113.9 ", "", "127.0.0.1", "LOCALHOST"}},
			wantDNS: []string{"api.example.com"},
			wantIPs: []string{"10.44.0.1", "fd00:44::1", "203.0.113.9"},
			notIPs:  []string{"10.43.0.1"},
		},
		{
			name:    "unusable hostname is skipped",
			cfg:     Config{ServiceCIDR: "10.43.0.0/16"},
			mutate:  func(e *env) { e.hostname = func() (string, error) { return "höst", nil } },
			wantDNS: []string{"localhost"},
			notDNS:  []string{"höst"},
		},
		{
			name:    "hostname error is tolerated",
			cfg:     Config{ServiceCIDR: "10.43.0.0/16"},
			mutate:  func(e *env) { e.hostname = func() (string, error) { return "", errors.New("boom") } },
			wantDNS: []string{"kubernetes"},
		},
		{
			name:    "bad extra SAN",
			cfg:     Config{ServiceCIDR: "10.43.0.0/16", ExtraSANs: []string{"bad name"}},
			wantErr: "extra SAN",
		},
		{
			name:    "bad service CIDR",
			cfg:     Config{ServiceCIDR: "10.43.0.0/33"},
			wantErr: "service CIDR",
		},
		{
			name:    "interface listing fails",
			cfg:     Config{ServiceCIDR: "10.43.0.0/16"},
			mutate:  func(e *env) { e.interfaces = func() ([]net.Addr, error) { return nil, errors.New("boom") } },
			wantErr: "interface",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fakeEnv(time.Now())
			if tt.mutate != nil {
				tt.mutate(&e)
			}
			got, err := requiredSANs(tt.cfg, e)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range tt.wantDNS {
				if !slices.Contains(got.dns, d) {
					t.Errorf("DNS SANs %v lack %q", got.dns, d)
				}
			}
			for _, d := range tt.notDNS {
				if slices.Contains(got.dns, d) {
					t.Errorf("DNS SANs %v contain %q", got.dns, d)
				}
			}
			hasIP := func(s string) bool {
				return slices.ContainsFunc(got.ips, func(ip net.IP) bool { return ip.Equal(net.ParseIP(s)) })
			}
			for _, ip := range tt.wantIPs {
				if !hasIP(ip) {
					t.Errorf("IP SANs %v lack %s", got.ips, ip)
				}
			}
			for _, ip := range tt.notIPs {
				if hasIP(ip) {
					t.Errorf("IP SANs %v contain %s", got.ips, ip)
				}
			}
			seen := map[string]bool{}
			for _, ip := range got.ips {
				if seen[ip.String()] {
					t.Errorf("duplicate IP SAN %s", ip)
				}
				seen[ip.String()] = true
			}
			for _, d := range got.dns {
				if seen[d] {
					t.Errorf("duplicate DNS SAN %s", d)
				}
				seen[d] = true
			}
		})
	}
}

func TestValidDNSName(t *testing.T) {
	tests := map[string]bool{
		"kubernetes":            true,
		"api.example.com":       true,
		"api.example.com.":      true,
		"*.example.com":         true,
		"my_host":               true,
		"":                      false,
		"a..b":                  false,
		"has space":             false,
		"höst":                  false,
		strings.Repeat("a", 64): false,
	}
	for name, want := range tests {
		if got := validDNSName(name); got != want {
			t.Errorf("validDNSName(%q) = %v, want %v", name, got, want)
		}
	}
}
