package pods

import (
	"context"
	"fmt"
	"github.com/skiff-io/skiff/internal/dns"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiff-io/skiff/internal/controller"
)

var everything = labels.Everything()

// Resync periods: running pods are looked at again even when nothing
// changes, so that edited ConfigMaps and Secrets reach mounted files
// within seconds.
const (
	resyncVolumes = 3 * time.Second
	resyncRunning = 30 * time.Second
)

// sync brings a live pod's containers to the plan and posts its status.
func (m *Manager) sync(ctx context.Context, pod *corev1.Pod) error {
	o, err := m.observe(ctx, pod.UID)
	if err != nil {
		return err
	}
	hashes := map[string]string{}
	unhealthy := map[string]Kill{}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		hashes[c.Name] = SpecHash(c)
		if id, msg, ok := m.cfg.Probes.Failed(pod.UID, c.Name); ok {
			unhealthy[c.Name] = Kill{ID: id, Name: c.Name, Reason: "Unhealthy", Message: msg}
		}
	}
	now := m.cfg.Now()
	plan := PlanSync(PlanInput{Pod: pod, Observed: o, Now: now, Hashes: hashes, Unhealthy: unhealthy})
	waiting := plan.Waiting
	retry := plan.RetryAfter
	changed := false
	for name, w := range waiting {
		if w.Reason == "CrashLoopBackOff" { // the kubelet's BackOff event, at every sync held back
			m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)",
				name, pod.Name, pod.Namespace, pod.UID)
		}
	}

	if len(plan.Kill) > 0 {
		m.killAll(ctx, pod, o, plan.Kill, gracePeriod(pod))
		changed = true
	}
	if plan.StopSandbox {
		for _, sb := range o.Sandboxes {
			if sb.Ready {
				if _, err := m.cfg.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.ID}); err != nil {
					return fmt.Errorf("stop sandbox: %w", err)
				}
			}
		}
		changed = true
	}
	if plan.CreateSandbox || len(plan.Start) > 0 || hasRefreshableVolumes(pod) {
		if err := m.cfg.Volumes.Setup(ctx, pod); err != nil {
			// As the kubelet: nothing starts until the volumes are there;
			// the containers stay ContainerCreating and events say why.
			m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "FailedMount", "%v", err)
			plan.Start, plan.CreateSandbox = nil, false
			retry = minRetry(retry, 2*time.Second)
		}
	}
	if plan.CreateSandbox {
		if err := m.createSandbox(ctx, pod, o); err != nil {
			m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
			return err
		}
		if o, err = m.observe(ctx, pod.UID); err != nil {
			return err
		}
		changed = true
	}
	if sb := o.Sandbox(); sb != nil && sb.Ready {
		for _, name := range plan.Start {
			c, init := containerByName(pod, name)
			if c == nil {
				continue
			}
			if w, wait, held := m.heldBack(pod, name, now); held {
				waiting[name] = w
				retry = minRetry(retry, wait)
				continue
			}
			if w, err := m.startContainer(ctx, pod, o, sb, c, init); err != nil {
				waiting[name] = m.recordFailure(pod, name, w, now)
				m.cfg.Logger.Info("container start failed", "pod", pod.Namespace+"/"+pod.Name, "container", name, "reason", w.Reason, "err", err)
				retry = minRetry(retry, time.Second)
				continue
			}
			m.clearFailure(pod, name)
			changed = true
		}
	}
	if changed {
		if o, err = m.observe(ctx, pod.UID); err != nil {
			return err
		}
	}
	m.removeDead(ctx, o)
	ip := ""
	if sb := o.Sandbox(); sb != nil {
		ip = sb.IP
	}
	if pod.Spec.HostNetwork {
		ip = m.cfg.HostIP
	}
	running := map[string]RunningContainer{}
	for name := range o.Containers {
		if in := o.Latest(name); in != nil && in.Running() {
			running[name] = RunningContainer{ID: in.ID, StartedAt: in.Started}
		}
	}
	m.cfg.Probes.Update(pod, ip, running)
	st := ComputeStatus(StatusInput{
		Pod: pod, Observed: o, Waiting: waiting, HostIP: m.cfg.HostIP, Now: now,
		Ready:   func(name string) bool { return m.cfg.Probes.Ready(pod.UID, name) },
		Started: func(name string) bool { return m.cfg.Probes.Started(pod.UID, name) },
		Failed:  plan.Failed, Reason: plan.Reason, Message: plan.Message,
	})
	if err := m.postStatus(ctx, pod, st); err != nil {
		return err
	}
	if st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed {
		return retryOrNil(retry)
	}
	if hasRefreshableVolumes(pod) {
		retry = minRetry(retry, resyncVolumes)
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil && st.StartTime != nil {
		retry = minRetry(retry, max(time.Until(st.StartTime.Add(time.Duration(*d)*time.Second)), 100*time.Millisecond))
	}
	return controller.RequeueAfter(minRetry(retry, resyncRunning))
}

func minRetry(cur, d time.Duration) time.Duration {
	if cur <= 0 || d < cur {
		return d
	}
	return cur
}

func retryOrNil(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	return controller.RequeueAfter(d)
}

func containerByName(pod *corev1.Pod, name string) (*corev1.Container, bool) {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i], true
		}
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i], false
		}
	}
	return nil, false
}

// hasRefreshableVolumes reports whether the pod mounts content the agent
// keeps up to date.
func hasRefreshableVolumes(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil {
			return true
		}
	}
	return false
}

// postStatus writes the pod's status when it differs from the posted one.
// On a conflict it writes it over the newest pod, keeping the conditions
// that others own (PodScheduled, DisruptionTarget, readiness gates).
func (m *Manager) postStatus(ctx context.Context, pod *corev1.Pod, st corev1.PodStatus) error {
	if equality.Semantic.DeepEqual(pod.Status, st) {
		return nil
	}
	pods := m.cfg.Client.CoreV1().Pods(pod.Namespace)
	upd := pod.DeepCopy()
	upd.Status = st
	_, err := pods.UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		fresh, gerr := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if gerr != nil || fresh.UID != pod.UID {
			return nil // gone: nothing to report
		}
		st.Conditions = mergeConditions(st.Conditions, fresh.Status.Conditions)
		fresh.Status = st
		_, err = pods.UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// mergeConditions is the agent's conditions from ours plus everyone
// else's from theirs.
func mergeConditions(ours, theirs []corev1.PodCondition) []corev1.PodCondition {
	var out []corev1.PodCondition
	for _, c := range ours {
		if agentCondition(c.Type) {
			out = append(out, c)
		}
	}
	for _, c := range theirs {
		if !agentCondition(c.Type) {
			out = append(out, c)
		}
	}
	return out
}

// createSandbox stops the pod's old sandboxes and starts a new one.
func (m *Manager) createSandbox(ctx context.Context, pod *corev1.Pod, o *Observed) error {
	var attempt uint32
	for _, sb := range o.Sandboxes {
		if sb.Attempt+1 > attempt {
			attempt = sb.Attempt + 1
		}
		if _, err := m.cfg.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.ID}); err != nil {
			return fmt.Errorf("stop old sandbox: %w", err)
		}
	}
	cfg := SandboxConfig(pod, attempt, m.logDir(pod), m.dnsConfig(pod))
	if _, err := m.cfg.Runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg}); err != nil {
		return fmt.Errorf("run sandbox: %w", err)
	}
	return nil
}

// dnsConfig is the pod's resolver configuration for its dnsPolicy, as the
// kubelet writes it.
func (m *Manager) dnsConfig(pod *corev1.Pod) *runtimeapi.DNSConfig {
	servers, searches, options := dns.ResolvConf(dns.EffectivePolicy(pod), pod.Namespace, m.cfg.ClusterDNS,
		m.cfg.ClusterDomain, pod.Spec.DNSConfig, m.cfg.HostResolvConf)
	return &runtimeapi.DNSConfig{Servers: servers, Searches: searches, Options: options}
}

func (m *Manager) logDir(pod *corev1.Pod) string {
	return fmt.Sprintf("%s/%s_%s_%s", m.cfg.LogDir, pod.Namespace, pod.Name, pod.UID)
}

// removeDead removes exited instances older than the previous one of each
// container (the previous one stays for `logs --previous`), and stopped
// sandboxes without containers.
func (m *Manager) removeDead(ctx context.Context, o *Observed) {
	used := map[string]bool{}
	var ids []string
	for _, l := range o.Containers {
		for i, in := range l {
			if i >= 2 && in.Exited() {
				if _, err := m.cfg.Runtime.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: in.ID}); err == nil {
					ids = append(ids, in.ID)
					continue
				}
			}
			used[in.SandboxID] = true
		}
	}
	for i, sb := range o.Sandboxes {
		if i > 0 && !sb.Ready && !used[sb.ID] {
			if _, err := m.cfg.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.ID}); err == nil {
				ids = append(ids, sb.ID)
			}
		}
	}
	m.cache.forget(ids)
}
