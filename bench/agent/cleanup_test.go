package main

import (
	"slices"
	"testing"
)

func TestMountsUnder(t *testing.T) {
	const info = `22 1 0:21 / / rw - ext4 /dev/root rw
100 22 0:50 / /tmp/bench/server/agent/containerd/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs rw - overlay overlay rw
101 22 0:51 / /tmp/bench/server/agent/containerd/state/io.containerd.grpc.v1.cri/sandboxes/abc/shm rw - tmpfs shm rw
102 22 0:52 / /tmp/bench/server/agent/pods/u/volumes/with\040space rw - tmpfs tmpfs rw
103 22 0:53 / /tmp/bench-other/x rw - tmpfs tmpfs rw
104 22 0:54 / /tmp/bench rw - tmpfs tmpfs rw
`
	got := mountsUnder(info, "/tmp/bench/")
	want := []string{
		"/tmp/bench/server/agent/containerd/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs",
		"/tmp/bench/server/agent/containerd/state/io.containerd.grpc.v1.cri/sandboxes/abc/shm",
		"/tmp/bench/server/agent/pods/u/volumes/with space",
		"/tmp/bench",
	}
	if !slices.Equal(got, want) {
		t.Errorf("mountsUnder =\n%q\nwant\n%q", got, want)
	}
}

func TestDeviceWithAddr(t *testing.T) {
	const out = `1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
3: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\       valid_lft forever preferred_lft forever
5: skf0a2c000018    inet 10.44.0.1/24 brd 10.44.0.255 scope global skf0a2c000018\       valid_lft forever preferred_lft forever
6: skiff0    inet 10.42.0.1/24 brd 10.42.0.255 scope global skiff0\       valid_lft forever preferred_lft forever
6: skiff0    inet 10.46.0.1/24 brd 10.46.0.255 scope global skiff0\       valid_lft forever preferred_lft forever
`
	tests := []struct {
		addr    string
		dev     string
		devAddr int
	}{
		{"10.44.0.1/24", "skf0a2c000018", 1},
		{"10.46.0.1/24", "skiff0", 2},
		{"10.47.0.1/24", "", 0},
		{"10.44.0.1/16", "", 0},
	}
	for _, tt := range tests {
		dev, n := deviceWithAddr(out, tt.addr)
		if dev != tt.dev || n != tt.devAddr {
			t.Errorf("deviceWithAddr(%s) = %q, %d; want %q, %d", tt.addr, dev, n, tt.dev, tt.devAddr)
		}
	}
}

func TestBridgeGateway(t *testing.T) {
	tests := []struct{ cidr, want string }{
		{"10.44.0.0/24", "10.44.0.1/24"},
		{"10.44.3.0/24", "10.44.3.1/24"},
		{"10.44.3.7/24", "10.44.3.1/24"},
	}
	for _, tt := range tests {
		if got, err := bridgeGateway(tt.cidr); err != nil || got != tt.want {
			t.Errorf("bridgeGateway(%s) = %q, %v; want %q", tt.cidr, got, err, tt.want)
		}
	}
	if _, err := bridgeGateway("not a cidr"); err == nil {
		t.Errorf("bridgeGateway accepted garbage")
	}
}
