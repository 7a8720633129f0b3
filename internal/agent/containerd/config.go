// Package containerd runs the containerd that the node agent talks CRI to:
// it writes a configuration under the agent's data directory, starts and
// supervises the daemon, and imports the air-gapped image archives.
package containerd

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
)

// Layout names the files and directories of an agent-owned containerd.
type Layout struct {
	// Dir is <data-dir>/agent/containerd; everything below is derived.
	Dir string
}

// Config is the path of the generated configuration file.
func (l Layout) Config() string { return filepath.Join(l.Dir, "config.toml") }

// Socket is containerd's gRPC socket, which is also the CRI endpoint.
func (l Layout) Socket() string { return filepath.Join(l.Dir, "containerd.sock") }

// Root holds containerd's persistent state (content, snapshots, metadata).
func (l Layout) Root() string { return filepath.Join(l.Dir, "root") }

// State holds containerd's runtime state (sockets, mounts); lost on reboot.
func (l Layout) State() string { return filepath.Join(l.Dir, "state") }

// CNIConfDir is where the agent writes the pod network configuration.
func (l Layout) CNIConfDir() string { return filepath.Join(l.Dir, "cni") }

// Log is the daemon's log file.
func (l Layout) Log() string { return filepath.Join(l.Dir, "containerd.log") }

// ConfigOptions are the knobs of the generated configuration.
type ConfigOptions struct {
	SandboxImage string
	CNIBinDir    string
	// StreamPort is the loopback port of containerd's streaming server;
	// 0 picks a free one.
	StreamPort int
}

// RenderConfig returns containerd's TOML configuration. Two settings matter
// on every machine: restrict_oom_score_adj, because kernels that refuse
// negative oom_score_adj values (even to root) otherwise fail every sandbox,
// and the streaming server bound to loopback, because only the agent may
// reach it.
func RenderConfig(l Layout, o ConfigOptions) []byte {
	var b bytes.Buffer
	q := strconv.Quote
	fmt.Fprintf(&b, "# Written by skiff; edits are overwritten at start.\nversion = 2\n")
	fmt.Fprintf(&b, "root = %s\nstate = %s\n", q(l.Root()), q(l.State()))
	fmt.Fprintf(&b, "oom_score = 0\n\n[grpc]\n  address = %s\n\n", q(l.Socket()))
	fmt.Fprintf(&b, "[ttrpc]\n  address = %s\n\n", q(l.Socket()+".ttrpc"))
	// Only CRI is wanted; the rest of containerd's services stay for ctr.
	fmt.Fprintf(&b, "[plugins.\"io.containerd.grpc.v1.cri\"]\n")
	fmt.Fprintf(&b, "  sandbox_image = %s\n", q(o.SandboxImage))
	fmt.Fprintf(&b, "  restrict_oom_score_adj = true\n")
	fmt.Fprintf(&b, "  stream_server_address = \"127.0.0.1\"\n")
	fmt.Fprintf(&b, "  stream_server_port = %s\n", q(strconv.Itoa(o.StreamPort)))
	fmt.Fprintf(&b, "  enable_selinux = false\n  disable_apparmor = true\n")
	fmt.Fprintf(&b, "  max_container_log_line_size = 16384\n")
	fmt.Fprintf(&b, "  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n")
	fmt.Fprintf(&b, "    snapshotter = \"overlayfs\"\n    default_runtime_name = \"runc\"\n")
	fmt.Fprintf(&b, "    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n")
	fmt.Fprintf(&b, "      runtime_type = \"io.containerd.runc.v2\"\n")
	fmt.Fprintf(&b, "      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n")
	fmt.Fprintf(&b, "        SystemdCgroup = false\n")
	fmt.Fprintf(&b, "  [plugins.\"io.containerd.grpc.v1.cri\".cni]\n")
	fmt.Fprintf(&b, "    bin_dir = %s\n    conf_dir = %s\n", q(o.CNIBinDir), q(l.CNIConfDir()))
	return b.Bytes()
}
