package simulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// podEnv is what the node agent knows when it plays a pod.
type podEnv struct {
	hostIP netip.Addr
	podIPs []netip.Addr // ignored for hostNetwork pods
	now    time.Time
	// jobDuration is how long Job pods run when not annotated.
	jobDuration time.Duration
}

// podExit tells whether (and when and how) a pod's containers exit on
// their own: Job pods and pods annotated with an exit code do, after the
// annotated run duration or the default; pods with restartPolicy Always
// never do.
func podExit(pod *corev1.Pod, def time.Duration) (code int32, after time.Duration, exits bool) {
	if pod.Spec.RestartPolicy == corev1.RestartPolicyAlways {
		return 0, 0, false
	}
	s, annotated := pod.Annotations[AnnotationExitCode]
	if annotated {
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			annotated = false
		} else {
			code = int32(v)
		}
	}
	if !annotated && !ownedByJob(pod) {
		return 0, 0, false
	}
	after = def
	if d, err := time.ParseDuration(pod.Annotations[AnnotationRunDuration]); err == nil && d >= 0 {
		after = d
	}
	return code, after, true
}

func ownedByJob(pod *corev1.Pod) bool {
	for _, r := range pod.OwnerReferences {
		if r.Kind == "Job" && strings.HasPrefix(r.APIVersion, "batch/") {
			return true
		}
	}
	return false
}

// planPodStatus returns the status the node agent should post for a live
// (not terminating, not finished) pod, or nil if the current one is
// right, and how long until the pod needs another look (0: never).
func planPodStatus(pod *corev1.Pod, env podEnv) (*corev1.PodStatus, time.Duration) {
	now := env.now.Truncate(time.Second)
	started := now
	if pod.Status.StartTime != nil {
		started = pod.Status.StartTime.Time
	}
	code, runFor, exits := podExit(pod, env.jobDuration)
	var want *corev1.PodStatus
	var again time.Duration
	if exits && !now.Before(containersStarted(pod, started).Add(runFor)) {
		want = finishedStatus(pod, env, started, code)
	} else {
		want = runningStatus(pod, env, started)
		if exits {
			again = containersStarted(pod, started).Add(runFor).Sub(env.now)
			if again <= 0 {
				again = time.Second
			}
		}
	}
	if equality.Semantic.DeepEqual(want, &pod.Status) {
		return nil, again
	}
	return want, again
}

// containersStarted is when the pod's containers started running, as
// recorded in their statuses (def if none ran yet).
func containersStarted(pod *corev1.Pod, def time.Time) time.Time {
	t := def
	for _, cs := range pod.Status.ContainerStatuses {
		if r := cs.State.Running; r != nil && r.StartedAt.Time.After(t) {
			t = r.StartedAt.Time
		}
	}
	return t
}

// baseStatus copies the fields the agent keeps and fills in the ones it
// owns regardless of the phase: addresses, start time.
func baseStatus(pod *corev1.Pod, env podEnv, started time.Time) *corev1.PodStatus {
	st := pod.Status.DeepCopy()
	st.Reason, st.Message = "", ""
	st.HostIP = env.hostIP.String()
	st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
	ips := env.podIPs
	if pod.Spec.HostNetwork {
		ips = []netip.Addr{env.hostIP}
	}
	if len(st.PodIPs) == 0 && len(ips) > 0 {
		st.PodIP = ips[0].String()
		st.PodIPs = nil
		for _, a := range ips {
			st.PodIPs = append(st.PodIPs, corev1.PodIP{IP: a.String()})
		}
	}
	st.StartTime = &metav1.Time{Time: started}
	st.ObservedGeneration = pod.Generation
	return st
}

// runningStatus is the status of a pod whose containers all run.
func runningStatus(pod *corev1.Pod, env podEnv, started time.Time) *corev1.PodStatus {
	now := env.now.Truncate(time.Second)
	st := baseStatus(pod, env, started)
	st.Phase = corev1.PodRunning
	st.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		prev := containerStatus(pod.Status.InitContainerStatuses, c.Name)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			st.InitContainerStatuses = append(st.InitContainerStatuses, running(pod, c, prev, started))
			continue
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, terminated(pod, c, prev, started, started, 0, true))
	}
	st.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, running(pod, c, containerStatus(pod.Status.ContainerStatuses, c.Name), started))
	}
	gen := pod.Generation
	setPodCondition(st, corev1.PodReadyToStartContainers, corev1.ConditionTrue, "", "", now, gen)
	setPodCondition(st, corev1.PodInitialized, corev1.ConditionTrue, "", "", now, gen)
	setPodCondition(st, corev1.ContainersReady, corev1.ConditionTrue, "", "", now, gen)
	ready, reason, msg := readinessGates(pod, st)
	setPodCondition(st, corev1.PodReady, ready, reason, msg, now, gen)
	setPodCondition(st, corev1.PodScheduled, corev1.ConditionTrue, "", "", now, gen)
	return st
}

// finishedStatus is the status of a pod whose containers exited with code.
func finishedStatus(pod *corev1.Pod, env podEnv, started time.Time, code int32) *corev1.PodStatus {
	now := env.now.Truncate(time.Second)
	st := baseStatus(pod, env, started)
	reason := "PodCompleted"
	st.Phase = corev1.PodSucceeded
	if code != 0 {
		st.Phase, reason = corev1.PodFailed, "PodFailed"
	}
	st.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		prev := containerStatus(pod.Status.InitContainerStatuses, c.Name)
		sidecar := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		st.InitContainerStatuses = append(st.InitContainerStatuses, terminated(pod, c, prev, started, now, 0, !sidecar))
	}
	st.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		prev := containerStatus(pod.Status.ContainerStatuses, c.Name)
		st.ContainerStatuses = append(st.ContainerStatuses, terminated(pod, c, prev, started, now, code, false))
	}
	gen := pod.Generation
	setPodCondition(st, corev1.PodReadyToStartContainers, corev1.ConditionFalse, "", "", now, gen)
	setPodCondition(st, corev1.PodInitialized, corev1.ConditionTrue, "PodCompleted", "", now, gen)
	setPodCondition(st, corev1.ContainersReady, corev1.ConditionFalse, reason, "", now, gen)
	setPodCondition(st, corev1.PodReady, corev1.ConditionFalse, reason, "", now, gen)
	setPodCondition(st, corev1.PodScheduled, corev1.ConditionTrue, "", "", now, gen)
	return st
}

// exitCodeSIGTERM is what a container stopped by the agent exits with.
const exitCodeSIGTERM = 143

// stoppedStatus is the terminal status of a pod whose containers the agent
// stopped because the pod is being deleted.
func stoppedStatus(pod *corev1.Pod, env podEnv) *corev1.PodStatus {
	now := env.now.Truncate(time.Second)
	started := now
	if pod.Status.StartTime != nil {
		started = pod.Status.StartTime.Time
	}
	return finishedStatus(pod, env, started, exitCodeSIGTERM)
}

func running(pod *corev1.Pod, c corev1.Container, prev *corev1.ContainerStatus, started time.Time) corev1.ContainerStatus {
	at := metav1.Time{Time: started}
	if prev != nil && prev.State.Running != nil {
		at = prev.State.Running.StartedAt
	}
	return corev1.ContainerStatus{
		Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), ContainerID: containerID(pod, c.Name),
		Ready: true, Started: ptr.To(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at}},
	}
}

func terminated(pod *corev1.Pod, c corev1.Container, prev *corev1.ContainerStatus, started, finished time.Time, code int32, ready bool) corev1.ContainerStatus {
	startedAt, finishedAt := metav1.Time{Time: started}, metav1.Time{Time: finished}
	if prev != nil {
		switch {
		case prev.State.Terminated != nil:
			startedAt, finishedAt = prev.State.Terminated.StartedAt, prev.State.Terminated.FinishedAt
			code = prev.State.Terminated.ExitCode
		case prev.State.Running != nil:
			startedAt = prev.State.Running.StartedAt
		}
	}
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	return corev1.ContainerStatus{
		Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), ContainerID: containerID(pod, c.Name),
		Ready: ready, Started: ptr.To(false),
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: code, Reason: reason, StartedAt: startedAt, FinishedAt: finishedAt, ContainerID: containerID(pod, c.Name),
		}},
	}
}

func containerStatus(list []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// readinessGates evaluates the pod's readiness gates against its
// conditions, as the kubelet does for the Ready condition.
func readinessGates(pod *corev1.Pod, st *corev1.PodStatus) (corev1.ConditionStatus, string, string) {
	for _, g := range pod.Spec.ReadinessGates {
		c := podCondition(st.Conditions, g.ConditionType)
		if c == nil {
			return corev1.ConditionFalse, "ReadinessGatesNotReady", fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", g.ConditionType)
		}
		if c.Status != corev1.ConditionTrue {
			return corev1.ConditionFalse, "ReadinessGatesNotReady", fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %v", g.ConditionType, c.Status)
		}
	}
	return corev1.ConditionTrue, "", ""
}

func podCondition(conds []corev1.PodCondition, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// setPodCondition sets a condition, keeping its transition time (and the
// scheduler's PodScheduled entry) when the status does not change.
func setPodCondition(st *corev1.PodStatus, t corev1.PodConditionType, status corev1.ConditionStatus, reason, msg string, now time.Time, gen int64) {
	c := podCondition(st.Conditions, t)
	if c == nil {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: status, Reason: reason, Message: msg,
			LastTransitionTime: metav1.Time{Time: now}, ObservedGeneration: gen})
		return
	}
	if c.Status != status {
		c.LastTransitionTime = metav1.Time{Time: now}
	} else if t == corev1.PodScheduled {
		return
	}
	c.Status, c.Reason, c.Message, c.ObservedGeneration = status, reason, msg, gen
}

// imageID is a stable digest reference for an image name.
func imageID(image string) string {
	repo := image
	if i := strings.Index(repo, "@"); i >= 0 {
		repo = repo[:i]
	} else if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	sum := sha256.Sum256([]byte(image))
	return repo + "@sha256:" + hex.EncodeToString(sum[:])
}

func containerID(pod *corev1.Pod, name string) string {
	sum := sha256.Sum256([]byte(string(pod.UID) + "/" + name))
	return "skiff-sim://" + hex.EncodeToString(sum[:])
}
