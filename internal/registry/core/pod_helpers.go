package core

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/skiff-io/skiff/internal/registry/podspec"
)

// PodQOSClass returns the quality of service class Kubernetes assigns to
// pod (Guaranteed, Burstable or BestEffort), computed from the resources
// of its containers (or its pod-level resources when set).
func PodQOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	return podspec.QOSClass(pod)
}

// PodDeletionGracePeriod returns the grace period, in seconds, a delete of
// pod should use: the requested one if any, else the pod's
// terminationGracePeriodSeconds; 0 for pods not bound to a node or already
// finished, since no kubelet has anything to stop; and 1 instead of a
// negative value.
func PodDeletionGracePeriod(pod *corev1.Pod, requested *int64) int64 {
	var period int64
	switch {
	case requested != nil:
		period = *requested
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		period = 0
	}
	if period < 0 {
		period = 1
	}
	return period
}

// podHumanAge renders the time elapsed since ts the way kubectl prints
// ages ("5m", "3d"), or "<unknown>" for an unset time.
func podHumanAge(ts metav1.Time) string {
	if ts.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(ts.Time))
}

// podContainerCells returns the comma-separated names and images of the
// containers, as workload tables print them.
func podContainerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, 0, len(containers))
	im := make([]string, 0, len(containers))
	for _, c := range containers {
		n = append(n, c.Name)
		im = append(im, c.Image)
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

// podNameColumn and podAgeColumn are the NAME and AGE columns every table
// starts and (mostly) ends with.
func podNameColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
}

func podAgeColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]}
}

// podTemplateContainerColumns are the CONTAINERS and IMAGES columns of
// objects with a pod template, at the given priority.
func podTemplateContainerColumns(priority int32) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		{Name: "Containers", Type: "string", Priority: priority, Description: "Names of each container in the template."},
		{Name: "Images", Type: "string", Priority: priority, Description: "Images referenced by each container in the template."},
	}
}

// podNodeLostReason is the status reason the node lifecycle controller
// sets on pods of unreachable nodes.
const podNodeLostReason = "NodeLost"

// podStatusCells holds the computed cells of a pod's table row.
type podStatusCells struct {
	ready    string // "1/2"
	reason   string // STATUS column
	restarts string // "3" or "3 (5m ago)"
	podIP    string
}

// podPrintStatus computes READY, STATUS and RESTARTS the way kubectl shows
// them: the first unfinished init container explains an initializing pod
// ("Init:1/2", "Init:CrashLoopBackOff"), otherwise the last container with
// a waiting or terminated reason does; deleting pods show "Terminating".
// Sidecars (restartable init containers) count as containers.
func podPrintStatus(pod *corev1.Pod) podStatusCells {
	total := len(pod.Spec.Containers)
	sidecars := map[string]bool{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
			total++
		}
	}

	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			reason = corev1.PodReasonSchedulingGated
		}
	}

	ready, restarts, sidecarRestarts := 0, 0, 0
	var lastRestart, lastSidecarRestart time.Time
	initializing := false
	for i, cs := range pod.Status.InitContainerStatuses {
		restarts += int(cs.RestartCount)
		lastRestart = podLaterRestart(lastRestart, cs)
		if sidecars[cs.Name] {
			sidecarRestarts += int(cs.RestartCount)
			lastSidecarRestart = podLaterRestart(lastSidecarRestart, cs)
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode == 0 {
			continue
		}
		if sidecars[cs.Name] && cs.Started != nil && *cs.Started {
			if cs.Ready {
				ready++
			}
			continue
		}
		initializing = true
		switch w, t := cs.State.Waiting, cs.State.Terminated; {
		case t != nil && t.Reason != "":
			reason = "Init:" + t.Reason
		case t != nil && t.Signal != 0:
			reason = fmt.Sprintf("Init:Signal:%d", t.Signal)
		case t != nil:
			reason = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
		case w != nil && w.Reason != "" && w.Reason != "PodInitializing":
			reason = "Init:" + w.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		break
	}

	if !initializing || podConditionTrue(pod, corev1.PodInitialized) {
		restarts, lastRestart = sidecarRestarts, lastSidecarRestart
		running := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := pod.Status.ContainerStatuses[i]
			restarts += int(cs.RestartCount)
			lastRestart = podLaterRestart(lastRestart, cs)
			switch w, t := cs.State.Waiting, cs.State.Terminated; {
			case w != nil && w.Reason != "":
				reason = w.Reason
			case t != nil && t.Reason != "":
				reason = t.Reason
			case t != nil && t.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", t.Signal)
			case t != nil:
				reason = fmt.Sprintf("ExitCode:%d", t.ExitCode)
			case cs.Ready && cs.State.Running != nil:
				running = true
				ready++
			}
		}
		// A completed container next to running ones does not make the pod
		// complete.
		if reason == "Completed" && running {
			reason = "NotReady"
			if podConditionTrue(pod, corev1.PodReady) {
				reason = "Running"
			}
		}
	}

	if pod.DeletionTimestamp != nil {
		switch {
		case pod.Status.Reason == podNodeLostReason:
			reason = "Unknown"
		case pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
			reason = "Terminating"
		}
	}

	restartsCell := strconv.Itoa(restarts)
	if restarts != 0 && !lastRestart.IsZero() {
		restartsCell = fmt.Sprintf("%d (%s ago)", restarts, podHumanAge(metav1.NewTime(lastRestart)))
	}
	ip := ""
	if len(pod.Status.PodIPs) > 0 {
		ip = pod.Status.PodIPs[0].IP
	}
	return podStatusCells{
		ready:    fmt.Sprintf("%d/%d", ready, total),
		reason:   reason,
		restarts: restartsCell,
		podIP:    ip,
	}
}

// podLaterRestart returns the later of last and the time the container's
// previous run finished.
func podLaterRestart(last time.Time, cs corev1.ContainerStatus) time.Time {
	if t := cs.LastTerminationState.Terminated; t != nil && last.Before(t.FinishedAt.Time) {
		return t.FinishedAt.Time
	}
	return last
}

func podConditionTrue(pod *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podReadinessGates renders "true/total" over the pod's readiness gates,
// or "<none>" without gates.
func podReadinessGates(pod *corev1.Pod) string {
	if len(pod.Spec.ReadinessGates) == 0 {
		return "<none>"
	}
	trueCount := 0
	for _, g := range pod.Spec.ReadinessGates {
		if podConditionTrue(pod, g.ConditionType) {
			trueCount++
		}
	}
	return fmt.Sprintf("%d/%d", trueCount, len(pod.Spec.ReadinessGates))
}

func podNoneIfEmpty(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
