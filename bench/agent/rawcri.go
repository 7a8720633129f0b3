package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"k8s.io/apimachinery/pkg/util/uuid"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// rawNamespace is the sandbox metadata namespace of the reference
// sandboxes. They carry no labels, so the agent, which finds its pods'
// sandboxes by the io.kubernetes.pod.* labels, never touches them.
const rawNamespace = "bench-raw"

// rawSandbox is one reference sandbox with its container.
type rawSandbox struct {
	uid, sandboxID, containerID string
}

// rawCRI is the reference: the same containerd the agent uses, driven
// directly over CRI, doing what the agent does for one pod (a sandbox on
// the pod network, then create and start one busybox container).
type rawCRI struct {
	conn     *grpc.ClientConn
	rt       runtimeapi.RuntimeServiceClient
	imageRef string
	logDir   string

	mu   sync.Mutex
	live []rawSandbox // created and not removed yet
	uids []string     // every sandbox ever created, for the cgroup cleanup
}

// dialRaw connects to the CRI socket and resolves the busybox image,
// which the agent imported.
func dialRaw(ctx context.Context, socket, logDir string) (*rawCRI, error) {
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("CRI %s: %w", socket, err)
	}
	img := runtimeapi.NewImageServiceClient(conn)
	st, err := img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: busyboxImage}})
	if err != nil || st.Image == nil {
		conn.Close()
		return nil, fmt.Errorf("CRI image status of %s: %v (imported by the agent from <data-dir>/agent/images?)", busyboxImage, err)
	}
	return &rawCRI{conn: conn, rt: runtimeapi.NewRuntimeServiceClient(conn), imageRef: st.Image.Id, logDir: logDir}, nil
}

func (r *rawCRI) close() { r.conn.Close() }

// namespaces mirrors the agent's for an ordinary pod: its own network
// and IPC namespaces, a pid namespace per container.
func rawNamespaces() *runtimeapi.NamespaceOption {
	return &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
}

// rawSandboxConfig is the sandbox configuration the agent would send for
// a BestEffort pod of that name, without labels and annotations.
func rawSandboxConfig(name, uid, logDir string) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: rawNamespace, Uid: uid},
		Hostname:     name,
		LogDirectory: logDir,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent:    "/kubepods/besteffort/pod" + uid,
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: rawNamespaces()},
		},
	}
}

// rawContainerConfig is the agent's configuration of the benchmark pod's
// container (BestEffort: minimum CPU shares, OOM score 1000).
func rawContainerConfig(imageRef string) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "sleep"},
		Image:    &runtimeapi.ImageSpec{Image: imageRef, UserSpecifiedImage: busyboxImage},
		Command:  []string{"sleep", "3600"},
		LogPath:  filepath.Join("sleep", "0.log"),
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources:       &runtimeapi.LinuxContainerResources{CpuShares: 2, OomScoreAdj: 1000},
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: rawNamespaces()},
		},
	}
}

// start runs one sandbox and its container, returning once the container
// is started.
func (r *rawCRI) start(ctx context.Context, name string) error {
	uid := string(uuid.NewUUID())
	logDir := filepath.Join(r.logDir, uid)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("raw sandbox log dir: %w", err)
	}
	sbCfg := rawSandboxConfig(name, uid, logDir)
	r.mu.Lock()
	r.uids = append(r.uids, uid)
	r.mu.Unlock()
	sb, err := r.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: sbCfg})
	if err != nil {
		return fmt.Errorf("RunPodSandbox %s: %w", name, err)
	}
	s := rawSandbox{uid: uid, sandboxID: sb.PodSandboxId}
	defer func() {
		r.mu.Lock()
		r.live = append(r.live, s)
		r.mu.Unlock()
	}()
	c, err := r.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.PodSandboxId,
		Config: rawContainerConfig(r.imageRef), SandboxConfig: sbCfg})
	if err != nil {
		return fmt.Errorf("CreateContainer in %s: %w", name, err)
	}
	s.containerID = c.ContainerId
	if _, err := r.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: c.ContainerId}); err != nil {
		return fmt.Errorf("StartContainer in %s: %w", name, err)
	}
	return nil
}

// rawRun is one measured start of n reference sandboxes.
type rawRun struct {
	latencies []time.Duration
	wall      time.Duration
}

// startSequential starts the sandboxes one after the other; each latency
// is RunPodSandbox's call to StartContainer's return.
func (r *rawCRI) startSequential(ctx context.Context, names []string) (rawRun, error) {
	var run rawRun
	begin := time.Now()
	for _, name := range names {
		t := time.Now()
		if err := r.start(ctx, name); err != nil {
			return run, err
		}
		run.latencies = append(run.latencies, time.Since(t))
	}
	run.wall = time.Since(begin)
	return run, nil
}

// startBurst asks for all sandboxes at once and runs them on `workers`
// goroutines; each latency is from the start of the burst to that
// sandbox's container started, as if all had been requested together
// (which is what the agent sees in a burst).
func (r *rawCRI) startBurst(ctx context.Context, names []string, workers int) (rawRun, error) {
	lat := make([]time.Duration, len(names))
	begin := time.Now()
	err := forEach(ctx, len(names), workers, func(ctx context.Context, i int) error {
		if err := r.start(ctx, names[i]); err != nil {
			return err
		}
		lat[i] = time.Since(begin)
		return nil
	})
	if err != nil {
		return rawRun{}, err
	}
	return rawRun{latencies: lat, wall: time.Since(begin)}, nil
}

// teardown removes every live reference sandbox, all at once: the
// container is stopped with the pods' grace period (busybox sleep ignores
// SIGTERM, so each waits it out), then the sandbox is stopped and
// removed. It returns the wall time.
func (r *rawCRI) teardown(ctx context.Context, grace time.Duration) (time.Duration, error) {
	r.mu.Lock()
	live := r.live
	r.live = nil
	r.mu.Unlock()
	begin := time.Now()
	err := forEach(ctx, len(live), len(live), func(ctx context.Context, i int) error {
		s := live[i]
		if s.containerID != "" {
			if _, err := r.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: s.containerID, Timeout: int64(grace / time.Second)}); err != nil {
				return fmt.Errorf("StopContainer %s: %w", s.containerID, err)
			}
		}
		if _, err := r.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: s.sandboxID}); err != nil {
			return fmt.Errorf("StopPodSandbox %s: %w", s.sandboxID, err)
		}
		if _, err := r.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: s.sandboxID}); err != nil {
			return fmt.Errorf("RemovePodSandbox %s: %w", s.sandboxID, err)
		}
		return nil
	})
	return time.Since(begin), err
}

// createdUIDs lists the UIDs of every reference sandbox created.
func (r *rawCRI) createdUIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.uids...)
}
