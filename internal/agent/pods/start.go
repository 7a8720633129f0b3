package pods

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// startContainer pulls the image if needed, creates the container in the
// pod's sandbox and starts it, then runs its postStart hook. On failure
// it returns the waiting reason to show.
func (m *Manager) startContainer(ctx context.Context, pod *corev1.Pod, o *Observed, sb *Sandbox, c *corev1.Container, init bool) (Waiting, error) {
	ref, w, err := m.ensureImage(ctx, pod, c)
	if err != nil {
		return w, err
	}
	env, err := m.cfg.Env(ctx, pod, c, sb.IP)
	if err != nil {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return Waiting{Reason: "CreateContainerConfigError", Message: err.Error()}, err
	}
	envMap := map[string]string{}
	for _, kv := range env {
		envMap[kv.Key] = string(kv.Value)
	}
	mounts, err := m.cfg.Volumes.Mounts(pod, c, envMap)
	if err != nil {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return Waiting{Reason: "CreateContainerConfigError", Message: err.Error()}, err
	}
	var attempt uint32
	if l := o.Containers[c.Name]; len(l) > 0 {
		attempt = l[0].Attempt + 1
	}
	if c.TerminationMessagePath != "" {
		host := m.terminationMessagePath(pod.UID, c.Name, attempt)
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err == nil {
			if f, err := os.OpenFile(host, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o666); err == nil {
				f.Close()
				mounts = append(mounts, &runtimeapi.Mount{HostPath: host, ContainerPath: c.TerminationMessagePath})
			}
		}
	}
	cmd, args := m.cfg.Expand(c.Command, c.Args, env)
	cfg := ContainerConfig(ContainerInput{Pod: pod, Container: c, Init: init, Attempt: attempt, ImageRef: ref,
		Command: cmd, Args: args, Env: env, Mounts: mounts, MemoryHost: m.cfg.NodeMemory})
	sbCfg := SandboxConfig(pod, sb.Attempt, m.logDir(pod), m.dnsConfig(pod))
	created, err := m.cfg.Runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.ID, Config: cfg, SandboxConfig: sbCfg})
	if err != nil {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return Waiting{Reason: "CreateContainerError", Message: err.Error()}, err
	}
	m.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Created", "Created container: %s", c.Name)
	if _, err := m.cfg.Runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: created.ContainerId}); err != nil {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return Waiting{Reason: "RunContainerError", Message: err.Error()}, err
	}
	m.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Started", "Started container %s", c.Name)
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		if msg, err := m.runHook(ctx, pod, c, created.ContainerId, sb.IP, c.Lifecycle.PostStart); err != nil {
			m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "FailedPostStartHook", "PostStartHook failed: %s", msg)
			_, _ = m.cfg.Runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: created.ContainerId, Timeout: gracePeriod(pod)})
		}
	}
	return Waiting{}, nil
}

// ensureImage makes the container's image present according to its pull
// policy and returns the image's reference.
func (m *Manager) ensureImage(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (string, Waiting, error) {
	spec := &runtimeapi.ImageSpec{Image: c.Image}
	st, err := m.cfg.Images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: spec})
	present := err == nil && st.Image != nil
	policy := c.ImagePullPolicy
	if policy == "" {
		policy = corev1.PullIfNotPresent
	}
	if present && policy != corev1.PullAlways {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Pulled", "Container image %q already present on machine", c.Image)
		return st.Image.Id, Waiting{}, nil
	}
	if policy == corev1.PullNever {
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		m.cfg.Recorder.Event(pod, corev1.EventTypeWarning, "ErrImageNeverPull", msg)
		return "", Waiting{Reason: "ErrImageNeverPull", Message: msg}, fmt.Errorf("%s", msg)
	}
	m.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Pulling", "Pulling image %q", c.Image)
	start := time.Now()
	resp, err := m.cfg.Images.PullImage(ctx, &runtimeapi.PullImageRequest{Image: spec})
	if err != nil {
		msg := fmt.Sprintf("failed to pull image %q: %v", c.Image, grpcMessage(err))
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %v", c.Image, grpcMessage(err))
		return "", Waiting{Reason: "ErrImagePull", Message: msg}, err
	}
	m.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Pulled", "Successfully pulled image %q in %s", c.Image, time.Since(start).Round(time.Millisecond))
	return resp.ImageRef, Waiting{}, nil
}

// grpcMessage strips gRPC's "rpc error: code = X desc = " prefix.
func grpcMessage(err error) string {
	s := err.Error()
	if _, after, ok := strings.Cut(s, " desc = "); ok {
		return after
	}
	return s
}

// Start failures back off like crashes: 1s doubling to 5 minutes. Image
// pull failures show as ImagePullBackOff while held back.
const (
	failureInitial = time.Second
	failureMax     = 5 * time.Minute
)

func failureKey(pod *corev1.Pod, name string) string { return string(pod.UID) + "/" + name }

func (m *Manager) recordFailure(pod *corev1.Pod, name string, w Waiting, now time.Time) Waiting {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.failures[failureKey(pod, name)]
	f.delay = min(max(f.delay*2, failureInitial), failureMax)
	f.until = now.Add(f.delay)
	f.waiting = w
	m.failures[failureKey(pod, name)] = f
	return w
}

func (m *Manager) clearFailure(pod *corev1.Pod, name string) {
	m.mu.Lock()
	delete(m.failures, failureKey(pod, name))
	m.mu.Unlock()
}

// heldBack reports whether a container that failed to start must wait,
// what to show meanwhile, and for how long.
func (m *Manager) heldBack(pod *corev1.Pod, name string, now time.Time) (Waiting, time.Duration, bool) {
	m.mu.Lock()
	f, ok := m.failures[failureKey(pod, name)]
	m.mu.Unlock()
	if !ok || !now.Before(f.until) {
		return Waiting{}, 0, false
	}
	w := f.waiting
	if w.Reason == "ErrImagePull" {
		c, _ := containerByName(pod, name)
		w = Waiting{Reason: "ImagePullBackOff", Message: fmt.Sprintf("Back-off pulling image %q", c.Image)}
	}
	return w, f.until.Sub(now), true
}
