package dns

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

const hostResolv = `# generated
nameserver 192.0.2.53
nameserver 192.0.2.54 # second
search old.example
search corp.example. lab.example
options timeout:2 ndots:1
options rotate
`

func TestResolvConf(t *testing.T) {
	clusterDNS := []string{"10.43.0.10"}
	podCfg := &corev1.PodDNSConfig{
		Nameservers: []string{"192.0.2.99", "10.43.0.10"},
		Searches:    []string{"extra.example", "svc.cluster.local"},
		Options:     []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("2")}, {Name: "edns0"}},
	}
	type out struct{ Servers, Searches, Options []string }
	tests := []struct {
		name       string
		policy     corev1.DNSPolicy
		clusterDNS []string
		cfg        *corev1.PodDNSConfig
		host       string
		want       out
	}{
		{name: "ClusterFirst", policy: corev1.DNSClusterFirst, clusterDNS: clusterDNS, host: hostResolv, want: out{
			[]string{"10.43.0.10"},
			[]string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example"},
			[]string{"ndots:5"}}},
		{name: "empty policy is ClusterFirst", policy: "", clusterDNS: clusterDNS, host: "", want: out{
			[]string{"10.43.0.10"}, []string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local"}, []string{"ndots:5"}}},
		{name: "ClusterFirstWithHostNet is ClusterFirst", policy: corev1.DNSClusterFirstWithHostNet, clusterDNS: clusterDNS, host: "", want: out{
			[]string{"10.43.0.10"}, []string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local"}, []string{"ndots:5"}}},
		{name: "ClusterFirst without cluster DNS falls back to Default", policy: corev1.DNSClusterFirst, host: hostResolv, want: out{
			[]string{"192.0.2.53", "192.0.2.54"}, []string{"corp.example", "lab.example"}, []string{"timeout:2", "ndots:1", "rotate"}}},
		{name: "Default", policy: corev1.DNSDefault, clusterDNS: clusterDNS, host: hostResolv, want: out{
			[]string{"192.0.2.53", "192.0.2.54"}, []string{"corp.example", "lab.example"}, []string{"timeout:2", "ndots:1", "rotate"}}},
		{name: "None uses only dnsConfig", policy: corev1.DNSNone, clusterDNS: clusterDNS, host: hostResolv, cfg: podCfg, want: out{
			[]string{"192.0.2.99", "10.43.0.10"}, []string{"extra.example", "svc.cluster.local"}, []string{"ndots:2", "edns0"}}},
		{name: "None without dnsConfig is empty", policy: corev1.DNSNone, clusterDNS: clusterDNS, host: hostResolv},
		{name: "ClusterFirst merges dnsConfig", policy: corev1.DNSClusterFirst, clusterDNS: clusterDNS, host: hostResolv, cfg: podCfg, want: out{
			[]string{"10.43.0.10", "192.0.2.99"},
			[]string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example", "extra.example"},
			[]string{"ndots:2", "edns0"}}},
		{name: "Default merges dnsConfig, option overridden in place", policy: corev1.DNSDefault, host: hostResolv, cfg: podCfg, want: out{
			[]string{"192.0.2.53", "192.0.2.54", "192.0.2.99"},
			[]string{"corp.example", "lab.example", "extra.example", "svc.cluster.local"},
			[]string{"timeout:2", "ndots:2", "rotate", "edns0"}}},
		{name: "at most three nameservers", policy: corev1.DNSNone,
			cfg:  &corev1.PodDNSConfig{Nameservers: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"}},
			want: out{Servers: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, se, o := ResolvConf(tt.policy, "ns1", tt.clusterDNS, "cluster.local.", tt.cfg, []byte(tt.host))
			if d := cmp.Diff(tt.want, out{s, se, o}); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestResolvConfSearchLimit(t *testing.T) {
	cfg := &corev1.PodDNSConfig{}
	for i := 0; i < 40; i++ {
		cfg.Searches = append(cfg.Searches, string(rune('a'+i%26))+string(rune('a'+i/26))+".example")
	}
	_, se, _ := ResolvConf(corev1.DNSNone, "ns", nil, "cluster.local", cfg, nil)
	if len(se) != maxSearchPaths {
		t.Fatalf("searches = %d, want %d", len(se), maxSearchPaths)
	}
}

func TestEffectivePolicy(t *testing.T) {
	pod := func(p corev1.DNSPolicy, hostNet bool) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{DNSPolicy: p, HostNetwork: hostNet}}
	}
	tests := []struct {
		pod  *corev1.Pod
		want corev1.DNSPolicy
	}{
		{pod("", false), corev1.DNSClusterFirst},
		{pod(corev1.DNSClusterFirst, true), corev1.DNSDefault},
		{pod(corev1.DNSClusterFirstWithHostNet, true), corev1.DNSClusterFirst},
		{pod(corev1.DNSClusterFirstWithHostNet, false), corev1.DNSClusterFirst},
		{pod(corev1.DNSDefault, false), corev1.DNSDefault},
		{pod(corev1.DNSNone, true), corev1.DNSNone},
	}
	for _, tt := range tests {
		if got := EffectivePolicy(tt.pod); got != tt.want {
			t.Errorf("EffectivePolicy(%s, hostNetwork=%v) = %s, want %s", tt.pod.Spec.DNSPolicy, tt.pod.Spec.HostNetwork, got, tt.want)
		}
	}
}

func TestFormatResolvConf(t *testing.T) {
	got := string(FormatResolvConf([]string{"10.43.0.10"}, []string{"a.svc.cluster.local", "cluster.local"}, []string{"ndots:5"}))
	want := "nameserver 10.43.0.10\nsearch a.svc.cluster.local cluster.local\noptions ndots:5\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestUpstreams(t *testing.T) {
	tests := []struct {
		name, conf string
		self       []string
		want       []string
	}{
		{name: "plain", conf: "nameserver 192.0.2.53\nnameserver 2001:db8::53\n", self: []string{"0.0.0.0:10053"},
			want: []string{"192.0.2.53:53", "[2001:db8::53]:53"}},
		{name: "systemd stub kept: not us", conf: "nameserver 127.0.0.53\n", self: []string{"0.0.0.0:10053"}, want: []string{"127.0.0.53:53"}},
		{name: "ourselves on 53 skipped", conf: "nameserver 127.0.0.1\nnameserver 192.0.2.53\n", self: []string{"127.0.0.1:53"}, want: []string{"192.0.2.53:53"}},
		{name: "wildcard on 53 covers every loopback", conf: "nameserver 127.0.0.53\nnameserver ::1\n", self: []string{"0.0.0.0:53"}},
		{name: "garbage ignored", conf: "nameserver nonsense\n", self: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, Upstreams([]byte(tt.conf), tt.self)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
