package pods

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// gracePeriod is how long containers get between SIGTERM and SIGKILL:
// the deletion's grace period when the pod is being deleted, else the
// pod's terminationGracePeriodSeconds.
func gracePeriod(pod *corev1.Pod) int64 {
	if pod.DeletionGracePeriodSeconds != nil {
		return max(*pod.DeletionGracePeriodSeconds, 0)
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return max(*pod.Spec.TerminationGracePeriodSeconds, 0)
	}
	return corev1.DefaultTerminationGracePeriodSeconds
}

// killAll stops the given containers together: each runs its preStop hook,
// then gets SIGTERM and, after what is left of the grace period, SIGKILL.
func (m *Manager) killAll(ctx context.Context, pod *corev1.Pod, o *Observed, kills []Kill, grace int64) {
	var wg sync.WaitGroup
	for _, k := range kills {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.kill(ctx, pod, o, k, grace)
		}()
	}
	wg.Wait()
}

func (m *Manager) kill(ctx context.Context, pod *corev1.Pod, o *Observed, k Kill, grace int64) {
	c, _ := containerByName(pod, k.Name)
	if k.Message != "" {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Killing", "Stopping container %s", k.Name)
	}
	deadline := time.Now().Add(time.Duration(grace) * time.Second)
	if c != nil && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 {
		ip := ""
		if sb := o.Sandbox(); sb != nil {
			ip = sb.IP
		}
		hctx, cancel := context.WithDeadline(ctx, deadline)
		if msg, err := m.runHook(hctx, pod, c, k.ID, ip, c.Lifecycle.PreStop); err != nil {
			m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "FailedPreStopHook", "PreStopHook failed: %s", msg)
		}
		cancel()
	}
	left := int64(time.Until(deadline).Round(time.Second) / time.Second)
	if left < 0 {
		left = 0
	}
	if _, err := m.cfg.Runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: k.ID, Timeout: left}); err != nil {
		m.cfg.Logger.Warn("stop container", "pod", pod.Namespace+"/"+pod.Name, "container", k.Name, "err", err)
	}
}

// runHook runs a postStart or preStop handler and returns its failure
// output.
func (m *Manager) runHook(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id, podIP string, h *corev1.LifecycleHandler) (string, error) {
	switch {
	case h.Exec != nil:
		timeout := gracePeriod(pod)
		if dl, ok := ctx.Deadline(); ok {
			timeout = max(int64(time.Until(dl)/time.Second), 1)
		}
		resp, err := m.cfg.Runtime.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: h.Exec.Command, Timeout: timeout})
		if err != nil {
			return err.Error(), err
		}
		if resp.ExitCode != 0 {
			out := string(resp.Stdout) + string(resp.Stderr)
			return fmt.Sprintf("command '%v' exited with %d: %s", h.Exec.Command, resp.ExitCode, out), fmt.Errorf("exit code %d", resp.ExitCode)
		}
		return "", nil
	case h.HTTPGet != nil:
		g := h.HTTPGet
		host := g.Host
		if host == "" {
			host = podIP
		}
		port, err := resolvePort(g.Port, c)
		if err != nil {
			return err.Error(), err
		}
		scheme := "http"
		if g.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), g.Path)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err.Error(), err
		}
		for _, hd := range g.HTTPHeaders {
			req.Header.Add(hd.Name, hd.Value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error(), err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			msg := fmt.Sprintf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: received status %d", g.Path, c.Name, pod.Name, resp.StatusCode)
			return msg, fmt.Errorf("%s", msg)
		}
		return "", nil
	case h.Sleep != nil:
		select {
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
		case <-ctx.Done():
		}
		return "", nil
	}
	return "", nil
}

func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == 0 {
		return int(p.IntVal), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port %q in container %q", p.StrVal, c.Name)
}

// stopRetry is how long a pod whose stop failed waits before the next try.
const stopRetry = time.Second

// terminate stops a pod being deleted, in the background so that a long
// grace period does not hold up a worker; a failed attempt enqueues the
// pod again.
func (m *Manager) terminate(ctx context.Context, pod *corev1.Pod) error {
	m.mu.Lock()
	busy := m.stopping[pod.UID]
	m.stopping[pod.UID] = true
	m.mu.Unlock()
	if busy {
		return nil
	}
	go func() {
		err := m.stopPod(ctx, pod)
		m.mu.Lock()
		delete(m.stopping, pod.UID)
		m.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			m.cfg.Logger.Warn("stopping pod; retrying", "pod", pod.Namespace+"/"+pod.Name, "err", err)
			m.ctrl.EnqueueAfter(pod.Namespace+"/"+pod.Name, stopRetry)
		}
	}()
	return nil
}

// stopPod stops a pod being deleted within its grace period, posts its
// final status and removes the pod object, which ends its deletion.
func (m *Manager) stopPod(ctx context.Context, pod *corev1.Pod) error {
	o, err := m.observe(ctx, pod.UID)
	if err != nil {
		return err
	}
	var kills []Kill
	for _, l := range o.Containers {
		if len(l) > 0 && (l[0].Running() || l[0].State == runtimeapi.ContainerState_CONTAINER_CREATED) {
			kills = append(kills, Kill{ID: l[0].ID, Name: l[0].Name})
		}
	}
	m.killAll(ctx, pod, o, kills, gracePeriod(pod))
	for _, sb := range o.Sandboxes {
		if _, err := m.cfg.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.ID}); err != nil {
			return fmt.Errorf("stop sandbox: %w", err)
		}
	}
	if o, err = m.observe(ctx, pod.UID); err != nil {
		return err
	}
	m.cfg.Probes.Remove(pod.UID)
	st := ComputeStatus(StatusInput{Pod: pod, Observed: o, HostIP: m.cfg.HostIP, Now: m.cfg.Now()})
	if st.Phase != corev1.PodSucceeded && st.Phase != corev1.PodFailed {
		st.Phase = terminalPhase(st)
	}
	if err := m.postStatus(ctx, pod, st); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	uid := pod.UID
	err = m.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// terminalPhase is the phase of a pod whose containers were all stopped:
// Succeeded when every one exited 0, else Failed.
func terminalPhase(st corev1.PodStatus) corev1.PodPhase {
	for _, cs := range st.ContainerStatuses {
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
			return corev1.PodFailed
		}
	}
	return corev1.PodSucceeded
}
