package pods

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// StatusInput is what a pod's status is computed from.
type StatusInput struct {
	Pod      *corev1.Pod
	Observed *Observed
	// Waiting overrides the waiting reason of containers that are not
	// running (back-off, image pull and configuration errors).
	Waiting map[string]Waiting
	// Ready reports a running container's readiness-probe result;
	// Started its startup-probe result.
	Ready   func(name string) bool
	Started func(name string) bool
	HostIP  string
	Now     time.Time
	// Failed, with Reason and Message, makes the pod Failed.
	Failed          bool
	Reason, Message string
}

const runtimePrefix = "containerd://"

// ComputeStatus is the status the agent posts for a pod.
func ComputeStatus(in StatusInput) corev1.PodStatus {
	pod := in.Pod
	st := corev1.PodStatus{
		QOSClass:          pod.Status.QOSClass,
		NominatedNodeName: pod.Status.NominatedNodeName,
		StartTime:         pod.Status.StartTime,
		HostIP:            in.HostIP,
	}
	if in.HostIP != "" {
		st.HostIPs = []corev1.HostIP{{IP: in.HostIP}}
	}
	if st.StartTime == nil {
		st.StartTime = &metav1.Time{Time: in.Now.Truncate(time.Second)}
	}
	sb := in.Observed.Sandbox()
	ip := ""
	if pod.Spec.HostNetwork {
		ip = in.HostIP
	} else if sb != nil {
		ip = sb.IP
	}
	if ip == "" {
		ip = pod.Status.PodIP // keep the address a stopped sandbox had
	}
	if ip != "" {
		st.PodIP, st.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	}
	initDone := true
	var notInit []string
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := containerStatus(in, c, false)
		done := cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0
		if !done {
			initDone = false
			notInit = append(notInit, c.Name)
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	var notReady []string
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs := containerStatus(in, c, !initDone)
		if !cs.Ready {
			notReady = append(notReady, c.Name)
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	st.Phase = phase(pod, st.ContainerStatuses, initDone)
	if in.Failed {
		st.Phase, st.Reason, st.Message = corev1.PodFailed, in.Reason, in.Message
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		st.Phase = pod.Status.Phase // a terminal phase never changes
		st.Reason, st.Message = pod.Status.Reason, pod.Status.Message
	}
	st.Conditions = conditions(in, st.Phase, sb != nil && sb.Ready, initDone, notInit, notReady)
	return st
}

// containerStatus reports one container's latest instance.
func containerStatus(in StatusInput, c *corev1.Container, initializing bool) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: ptr.To(false)}
	o := in.Observed
	latest := o.Latest(c.Name)
	var newest *Instance
	if l := o.Containers[c.Name]; len(l) > 0 {
		newest = l[0]
		cs.RestartCount = int32(newest.Attempt)
	}
	if w, ok := in.Waiting[c.Name]; ok && (latest == nil || !latest.Running()) {
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}
		if newest != nil && newest.Exited() {
			cs.LastTerminationState.Terminated = terminated(newest)
			cs.ImageID, cs.ContainerID = newest.ImageRef, runtimePrefix+newest.ID
		}
		return cs
	}
	if latest == nil {
		reason := "ContainerCreating"
		if initializing {
			reason = "PodInitializing"
		}
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason}
		if newest != nil && newest.Exited() {
			cs.LastTerminationState.Terminated = terminated(newest)
		}
		return cs
	}
	cs.ImageID, cs.ContainerID = latest.ImageRef, runtimePrefix+latest.ID
	if prev := o.Previous(c.Name); prev != nil && prev.Exited() {
		cs.LastTerminationState.Terminated = terminated(prev)
	}
	switch {
	case latest.Running():
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(latest.Started)}
		started := in.Started == nil || in.Started(c.Name)
		cs.Started = ptr.To(started)
		cs.Ready = started && (in.Ready == nil || in.Ready(c.Name))
	case latest.Exited():
		cs.State.Terminated = terminated(latest)
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	}
	return cs
}

func terminated(in *Instance) *corev1.ContainerStateTerminated {
	reason := in.Reason
	if reason == "" {
		reason = "Completed"
		if in.ExitCode != 0 {
			reason = "Error"
		}
	}
	return &corev1.ContainerStateTerminated{
		ExitCode: in.ExitCode, Reason: reason, Message: in.Message,
		StartedAt: metav1.NewTime(in.Started), FinishedAt: metav1.NewTime(in.Finished),
		ContainerID: runtimePrefix + in.ID,
	}
}

// phase follows the kubelet: Pending until initialised and every
// container has run once; Running while any runs or will run again;
// Succeeded or Failed once all have stopped for good.
func phase(pod *corev1.Pod, statuses []corev1.ContainerStatus, initDone bool) corev1.PodPhase {
	if !initDone {
		return corev1.PodPending
	}
	var running, waiting, stopped, succeeded int
	for _, cs := range statuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.LastTerminationState.Terminated != nil:
			stopped++
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case stopped > 0:
		switch {
		case pod.Spec.RestartPolicy == corev1.RestartPolicyAlways:
			return corev1.PodRunning
		case stopped == succeeded:
			return corev1.PodSucceeded
		case pod.Spec.RestartPolicy == corev1.RestartPolicyNever:
			return corev1.PodFailed
		}
		return corev1.PodRunning
	}
	return corev1.PodPending
}

// conditions are the pod's conditions, keeping transition times of
// those whose status has not changed.
func conditions(in StatusInput, ph corev1.PodPhase, sandboxReady, initDone bool, notInit, notReady []string) []corev1.PodCondition {
	pod := in.Pod
	now := metav1.NewTime(in.Now.Truncate(time.Second))
	var out []corev1.PodCondition
	add := func(t corev1.PodConditionType, ok bool, reason, msg string) {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: msg, LastTransitionTime: now}
		if ok {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, "", ""
		}
		for _, old := range pod.Status.Conditions {
			if old.Type == t && old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
				c.LastProbeTime = old.LastProbeTime
			}
		}
		out = append(out, c)
	}
	add(corev1.PodReadyToStartContainers, sandboxReady, "", "")
	if ph == corev1.PodSucceeded || ph == corev1.PodFailed {
		add(corev1.PodInitialized, initDone, "PodCompleted", "")
		add(corev1.ContainersReady, false, "PodCompleted", "")
		add(corev1.PodReady, false, "PodCompleted", "")
	} else {
		add(corev1.PodInitialized, initDone, "ContainersNotInitialized", unreadyMessage("containers with incomplete status", notInit))
		add(corev1.ContainersReady, len(notReady) == 0, "ContainersNotReady", unreadyMessage("containers with unready status", notReady))
		ready, reason, msg := len(notReady) == 0, "ContainersNotReady", unreadyMessage("containers with unready status", notReady)
		if ready {
			if missing := unmetGates(pod); len(missing) > 0 {
				ready, reason = false, "ReadinessGatesNotReady"
				msg = fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", missing[0])
			}
		}
		add(corev1.PodReady, ready, reason, msg)
	}
	for _, c := range pod.Status.Conditions {
		if !agentCondition(c.Type) {
			out = append(out, c) // PodScheduled, DisruptionTarget and readiness gates belong to others
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return condOrder(out[i].Type) < condOrder(out[j].Type) })
	return out
}

func condOrder(t corev1.PodConditionType) int {
	switch t {
	case corev1.PodReadyToStartContainers:
		return 0
	case corev1.PodInitialized:
		return 1
	case corev1.PodReady:
		return 2
	case corev1.ContainersReady:
		return 3
	case corev1.PodScheduled:
		return 4
	}
	return 5
}

func unreadyMessage(prefix string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: [%s]", prefix, strings.Join(names, " "))
}

// unmetGates lists readiness gates whose condition is missing or false.
func unmetGates(pod *corev1.Pod) []string {
	var out []string
	for _, g := range pod.Spec.ReadinessGates {
		ok := false
		for _, c := range pod.Status.Conditions {
			if c.Type == g.ConditionType && c.Status == corev1.ConditionTrue {
				ok = true
			}
		}
		if !ok {
			out = append(out, string(g.ConditionType))
		}
	}
	return out
}

// agentCondition reports whether the agent owns a pod condition type.
func agentCondition(t corev1.PodConditionType) bool {
	switch t {
	case corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady:
		return true
	}
	return false
}
