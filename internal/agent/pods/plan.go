package pods

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Waiting is why a container is not running, in Kubernetes' words
// (reasons such as CrashLoopBackOff, ErrImagePull, CreateContainerConfigError).
type Waiting struct {
	Reason, Message string
}

// Kill names a container instance to stop, and why.
type Kill struct {
	ID, Name, Reason, Message string
}

// Plan is what one sync of a pod does.
type Plan struct {
	// CreateSandbox replaces the pod's sandbox (none, or not ready); all
	// containers start again in the new one.
	CreateSandbox bool
	// StopSandbox releases a finished pod's sandbox and network.
	StopSandbox bool
	Kill        []Kill
	// Start lists containers to create and start: one init container, or
	// app containers.
	Start     []string
	StartInit bool
	// Waiting holds the containers held back by restart back-off.
	Waiting map[string]Waiting
	// RetryAfter is when a held-back container may start; 0: no wait.
	RetryAfter time.Duration
	// Failed marks the pod Failed: an init container failed and the pod
	// never restarts, or the pod outlived activeDeadlineSeconds (then
	// Reason and Message say so).
	Failed          bool
	Reason, Message string
}

// PlanInput is everything planning looks at.
type PlanInput struct {
	Pod      *corev1.Pod
	Observed *Observed
	Now      time.Time
	// Hashes fingerprints each container's spec (see specHash).
	Hashes map[string]string
	// Unhealthy maps a container name to the instance ID whose liveness or
	// startup probe failed, with the message.
	Unhealthy map[string]Kill
}

// Back-off between restarts of a failing container: the first restart is
// immediate, then 10s doubling to 5 minutes, as the kubelet does; a
// container that ran for 10 minutes starts over.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 5 * time.Minute
	backoffReset   = 10 * time.Minute
)

// restartDelay is how long after in finished it may be restarted.
func restartDelay(in *Instance) time.Duration {
	if in.Attempt == 0 || (!in.Started.IsZero() && in.Finished.Sub(in.Started) >= backoffReset) {
		return 0
	}
	d := backoffInitial
	for i := uint32(1); i < in.Attempt && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// shouldRestart reports whether an exited container runs again under the
// pod's restart policy.
func shouldRestart(pod *corev1.Pod, in *Instance, hashChanged bool) bool {
	switch pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return in.ExitCode != 0 || hashChanged
	default:
		return true
	}
}

// Finished reports whether every container of the pod has run and none
// will run again: the pod's phase is final.
func Finished(pod *corev1.Pod, o *Observed) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return true
	}
	if pod.Spec.RestartPolicy == corev1.RestartPolicyAlways {
		return false
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		l := o.Containers[c.Name]
		if len(l) == 0 || !l[0].Exited() || shouldRestart(pod, l[0], false) {
			return false
		}
	}
	return true
}

// PlanSync decides the next steps for a live (not deleted) pod.
func PlanSync(in PlanInput) Plan {
	pod, o := in.Pod, in.Observed
	p := Plan{Waiting: map[string]Waiting{}}
	if Finished(pod, o) {
		if sb := o.Sandbox(); sb != nil && sb.Ready {
			p.StopSandbox = true
		}
		for _, l := range o.Containers {
			if len(l) > 0 && l[0].Running() {
				p.Kill = append(p.Kill, Kill{ID: l[0].ID, Name: l[0].Name, Reason: "Completed", Message: "pod has finished"})
			}
		}
		return p
	}
	if deadlineExceeded(pod, in.Now) {
		// As the kubelet: the pod fails and its containers are stopped.
		p.Failed, p.Reason = true, "DeadlineExceeded"
		p.Message = "Pod was active on the node longer than the specified deadline"
		for _, l := range o.Containers {
			if len(l) > 0 && l[0].Running() {
				p.Kill = append(p.Kill, Kill{ID: l[0].ID, Name: l[0].Name, Reason: "DeadlineExceeded", Message: p.Message})
			}
		}
		return p
	}
	sb := o.Sandbox()
	if sb == nil || !sb.Ready {
		p.CreateSandbox = true
		for _, l := range o.Containers {
			for _, c := range l {
				if c.Running() {
					p.Kill = append(p.Kill, Kill{ID: c.ID, Name: c.Name, Reason: "SandboxChanged", Message: "Pod sandbox changed, it will be killed and re-created."})
				}
			}
		}
		if len(pod.Spec.InitContainers) > 0 {
			p.Start, p.StartInit = []string{pod.Spec.InitContainers[0].Name}, true
		} else {
			for _, c := range pod.Spec.Containers {
				p.Start = append(p.Start, c.Name)
			}
		}
		return p
	}
	if !planInit(in, &p) {
		return p
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		latest := o.Latest(c.Name)
		if latest == nil {
			p.Start = append(p.Start, c.Name)
			continue
		}
		hashChanged := latest.Hash != "" && in.Hashes[c.Name] != "" && latest.Hash != in.Hashes[c.Name]
		switch {
		case latest.Running():
			if k, ok := in.Unhealthy[c.Name]; ok && k.ID == latest.ID {
				p.Kill = append(p.Kill, k)
			} else if hashChanged {
				p.Kill = append(p.Kill, Kill{ID: latest.ID, Name: c.Name, Reason: "Killing",
					Message: fmt.Sprintf("Container %s definition changed, will be restarted", c.Name)})
			}
		case latest.Exited():
			if !shouldRestart(pod, latest, hashChanged) {
				continue
			}
			backOff(in, &p, c.Name, latest, hashChanged)
		default: // created but never started, or unknown: start it over
			p.Start = append(p.Start, c.Name)
		}
	}
	return p
}

// planInit handles init containers, one at a time in order, and reports
// whether they have all completed.
func planInit(in PlanInput, p *Plan) bool {
	pod, o := in.Pod, in.Observed
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		latest := o.Latest(c.Name)
		switch {
		case latest == nil:
			p.Start, p.StartInit = []string{c.Name}, true
			return false
		case latest.Running():
			return false
		case latest.Exited() && latest.ExitCode == 0:
			continue
		case latest.Exited():
			if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
				p.Failed = true
				return false
			}
			backOff(in, p, c.Name, latest, false)
			if len(p.Start) > 0 {
				p.StartInit = true
			}
			return false
		default:
			p.Start, p.StartInit = []string{c.Name}, true
			return false
		}
	}
	return true
}

// backOff starts an exited container again, or holds it back with
// CrashLoopBackOff until its restart delay has passed.
func backOff(in PlanInput, p *Plan, name string, latest *Instance, hashChanged bool) {
	delay := restartDelay(latest)
	if hashChanged {
		delay = 0
	}
	wait := latest.Finished.Add(delay).Sub(in.Now)
	if wait <= 0 {
		p.Start = append(p.Start, name)
		return
	}
	pod := in.Pod
	p.Waiting[name] = Waiting{Reason: "CrashLoopBackOff",
		Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, name, pod.Name, pod.Namespace, pod.UID)}
	if p.RetryAfter == 0 || wait < p.RetryAfter {
		p.RetryAfter = wait
	}
}

// deadlineExceeded reports whether the pod has been active longer than its
// activeDeadlineSeconds, counted from its start time.
func deadlineExceeded(pod *corev1.Pod, now time.Time) bool {
	d := pod.Spec.ActiveDeadlineSeconds
	if d == nil || pod.Status.StartTime == nil {
		return false
	}
	return !now.Before(pod.Status.StartTime.Add(time.Duration(*d) * time.Second))
}
