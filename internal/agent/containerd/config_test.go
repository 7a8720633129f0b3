package containerd

import (
	"strings"
	"testing"
)

func TestRenderConfig(t *testing.T) {
	l := Layout{Dir: "/data/agent/containerd"}
	got := string(RenderConfig(l, ConfigOptions{SandboxImage: "skiff.local/pause:1.0", CNIBinDir: "/usr/lib/cni"}))
	for _, want := range []string{
		`version = 2`,
		`root = "/data/agent/containerd/root"`,
		`address = "/data/agent/containerd/containerd.sock"`,
		`sandbox_image = "skiff.local/pause:1.0"`,
		// Kernels that refuse negative oom_score_adj fail every sandbox without this.
		`restrict_oom_score_adj = true`,
		`stream_server_address = "127.0.0.1"`,
		`snapshotter = "overlayfs"`,
		`SystemdCgroup = false`,
		`bin_dir = "/usr/lib/cni"`,
		`conf_dir = "/data/agent/containerd/cni"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
}
