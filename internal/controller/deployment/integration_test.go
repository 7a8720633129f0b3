package deployment

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func newDeployment(name string, replicas int32, image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: image}}},
			},
		},
	}
}

func (e *env) namespace(t *testing.T, name string) {
	t.Helper()
	if _, err := e.client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) get(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	d, err := e.client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rolledOut is kubectl rollout status's notion of done.
func rolledOut(d *appsv1.Deployment) bool {
	return d.Generation <= d.Status.ObservedGeneration && d.Status.UpdatedReplicas == replicasOf(d) &&
		d.Status.Replicas == d.Status.UpdatedReplicas && d.Status.AvailableReplicas == d.Status.UpdatedReplicas
}

func (e *env) waitRolledOut(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	waitFor(t, "rollout of "+name, func(ctx context.Context) (bool, error) {
		var err error
		d, err = e.client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := getCondition(d.Status, appsv1.DeploymentProgressing)
		return rolledOut(d) && c != nil && c.Reason == ReasonNewRSAvailable, nil
	})
	return d
}

// replicaSets lists the replica sets d controls.
func (e *env) replicaSets(t *testing.T, d *appsv1.Deployment) []appsv1.ReplicaSet {
	t.Helper()
	list, err := e.client.AppsV1().ReplicaSets(d.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []appsv1.ReplicaSet
	for _, rs := range list.Items {
		if ref := metav1.GetControllerOf(&rs); ref != nil && ref.UID == d.UID {
			out = append(out, rs)
		}
	}
	return out
}

func (e *env) setImage(t *testing.T, ns, name, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":%q}]}}}}`, image)
	if _, err := e.client.AppsV1().Deployments(ns).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", e.srv.Kubeconfig}, args...)...).CombinedOutput()
	return string(out), err
}

// rollingLimits checks that at most replicas+surge pods exist and at least
// replicas-unavailable are ready.
func rollingLimits(replicas, surge, unavailable int) func(map[string]*corev1.Pod) error {
	return func(pods map[string]*corev1.Pod) error {
		ready := 0
		for _, p := range pods {
			if p.Status.Phase == corev1.PodRunning && isReady(p) {
				ready++
			}
		}
		if len(pods) > replicas+surge {
			return fmt.Errorf("%d pods exist, more than %d+%d", len(pods), replicas, surge)
		}
		if ready < replicas-unavailable {
			return fmt.Errorf("only %d pods ready, fewer than %d-%d", ready, replicas, unavailable)
		}
		return nil
	}
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func TestDeploymentIntegration(t *testing.T) {
	e := startEnv(t)
	ctx := context.Background()

	t.Run("rolling update within limits, history and undo", func(t *testing.T) {
		e.namespace(t, "rolling")
		mon := monitorPods(t, e.client, "rolling")
		d := newDeployment("web", 4, "nginx:1.0")
		one, zero := intstr.FromInt32(1), intstr.FromString("0%")
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &zero}}
		d.Annotations = map[string]string{"kubernetes.io/change-cause": "first"}
		if _, err := e.client.AppsV1().Deployments("rolling").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		d = e.waitRolledOut(t, "rolling", "web")
		if d.Annotations[RevisionAnnotation] != "1" {
			t.Fatalf("revision = %q, want 1", d.Annotations[RevisionAnnotation])
		}
		rss := e.replicaSets(t, d)
		hash := computeHash(&d.Spec.Template, nil)
		if len(rss) != 1 || rss[0].Name != "web-"+hash || rss[0].Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
			rss[0].Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
			rss[0].Annotations[RevisionAnnotation] != "1" || rss[0].Annotations[DesiredReplicasAnnotation] != "4" ||
			rss[0].Annotations[MaxReplicasAnnotation] != "5" || rss[0].Annotations["kubernetes.io/change-cause"] != "first" {
			t.Fatalf("replica sets = %+v", rss)
		}
		if c := getCondition(d.Status, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || c.Reason != ReasonMinimumAvailable {
			t.Fatalf("Available condition = %+v", c)
		}

		waitFor(t, "4 ready pods", func(context.Context) (bool, error) {
			mon.mu.Lock()
			defer mon.mu.Unlock()
			return len(mon.pods) == 4 && rollingLimits(4, 1, 0)(mon.pods) == nil, nil
		})
		mon.setCheck(rollingLimits(4, 1, 0))
		// The image and its change-cause change together, as with --record.
		patch := `{"metadata":{"annotations":{"kubernetes.io/change-cause":"second"}},` +
			`"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2.0"}]}}}}`
		if _, err := e.client.AppsV1().Deployments("rolling").Patch(ctx, "web", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		d = e.waitRolledOut(t, "rolling", "web")
		violations, peak := mon.result()
		if len(violations) > 0 {
			t.Fatalf("limits violated during the rollout: %v", violations)
		}
		if peak != 5 {
			t.Errorf("peak pod count %d; a surge of 1 should reach 5", peak)
		}
		if d.Annotations[RevisionAnnotation] != "2" || len(e.replicaSets(t, d)) != 2 {
			t.Fatalf("revision %q, %d replica sets; want 2 and 2", d.Annotations[RevisionAnnotation], len(e.replicaSets(t, d)))
		}

		out, err := e.kubectl(t, "-n", "rolling", "rollout", "history", "deployment/web")
		if err != nil || !strings.Contains(out, "1         first") || !strings.Contains(out, "2         second") {
			t.Fatalf("rollout history: %v\n%s", err, out)
		}
		out, err = e.kubectl(t, "-n", "rolling", "rollout", "undo", "deployment/web")
		if err != nil || !strings.Contains(out, "rolled back") {
			t.Fatalf("rollout undo: %v\n%s", err, out)
		}
		out, err = e.kubectl(t, "-n", "rolling", "rollout", "status", "deployment/web", "--timeout=30s")
		if err != nil || !strings.Contains(out, `deployment "web" successfully rolled out`) {
			t.Fatalf("rollout status: %v\n%s", err, out)
		}
		d = e.waitRolledOut(t, "rolling", "web")
		if img := d.Spec.Template.Spec.Containers[0].Image; img != "nginx:1.0" || d.Annotations[RevisionAnnotation] != "3" {
			t.Fatalf("after undo: image %s revision %s", img, d.Annotations[RevisionAnnotation])
		}
		for _, rs := range e.replicaSets(t, d) {
			if rs.Spec.Template.Spec.Containers[0].Image == "nginx:1.0" &&
				(rs.Annotations[RevisionAnnotation] != "3" || rs.Annotations[RevisionHistoryAnnotation] != "1" || *rs.Spec.Replicas != 4) {
				t.Fatalf("rolled-back replica set annotations %v replicas %d", rs.Annotations, *rs.Spec.Replicas)
			}
		}
		if violations, _ := mon.result(); len(violations) > 0 {
			t.Fatalf("limits violated during the rollback: %v", violations)
		}
		waitFor(t, "ScalingReplicaSet events", func(ctx context.Context) (bool, error) {
			evs, err := e.client.CoreV1().Events("rolling").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("reason", "ScalingReplicaSet").String()})
			if err != nil {
				return false, err
			}
			for _, ev := range evs.Items {
				if ev.Message == fmt.Sprintf("Scaled up replica set web-%s from 0 to 4", hash) && ev.Source.Component == "deployment-controller" {
					return true, nil
				}
			}
			return false, nil
		})
	})

	t.Run("max unavailable without surge", func(t *testing.T) {
		e.namespace(t, "unavail")
		mon := monitorPods(t, e.client, "unavail")
		d := newDeployment("api", 4, "api:1")
		zero, half := intstr.FromInt32(0), intstr.FromString("50%")
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &zero, MaxUnavailable: &half}}
		if _, err := e.client.AppsV1().Deployments("unavail").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		e.waitRolledOut(t, "unavail", "api")
		waitFor(t, "4 ready pods", func(context.Context) (bool, error) {
			mon.mu.Lock()
			defer mon.mu.Unlock()
			return len(mon.pods) == 4 && rollingLimits(4, 0, 0)(mon.pods) == nil, nil
		})
		mon.setCheck(rollingLimits(4, 0, 2))
		e.setImage(t, "unavail", "api", "api:2")
		e.waitRolledOut(t, "unavail", "api")
		if violations, peak := mon.result(); len(violations) > 0 || peak > 4 {
			t.Fatalf("violations %v, peak %d pods", violations, peak)
		}
	})

	t.Run("recreate", func(t *testing.T) {
		e.namespace(t, "recreate")
		mon := monitorPods(t, e.client, "recreate")
		d := newDeployment("db", 3, "db:1")
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		if _, err := e.client.AppsV1().Deployments("recreate").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		e.waitRolledOut(t, "recreate", "db")
		mon.setCheck(func(pods map[string]*corev1.Pod) error {
			images := map[string]bool{}
			for _, p := range pods {
				images[p.Spec.Containers[0].Image] = true
			}
			if len(images) > 1 {
				return fmt.Errorf("old and new pods together: %v", images)
			}
			return nil
		})
		e.setImage(t, "recreate", "db", "db:2")
		d = e.waitRolledOut(t, "recreate", "db")
		if violations, _ := mon.result(); len(violations) > 0 {
			t.Fatalf("recreate overlapped: %v", violations)
		}
		if d.Annotations[RevisionAnnotation] != "2" {
			t.Fatalf("revision %q", d.Annotations[RevisionAnnotation])
		}
	})

	t.Run("pause and resume", func(t *testing.T) {
		e.namespace(t, "pause")
		d := newDeployment("app", 2, "app:1")
		if _, err := e.client.AppsV1().Deployments("pause").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		d = e.waitRolledOut(t, "pause", "app")
		if out, err := e.kubectl(t, "-n", "pause", "rollout", "pause", "deployment/app"); err != nil {
			t.Fatalf("rollout pause: %v\n%s", err, out)
		}
		e.setImage(t, "pause", "app", "app:2")
		waitFor(t, "paused condition", func(ctx context.Context) (bool, error) {
			d, err := e.client.AppsV1().Deployments("pause").Get(ctx, "app", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			c := getCondition(d.Status, appsv1.DeploymentProgressing)
			return d.Status.ObservedGeneration == d.Generation && c != nil && c.Reason == ReasonPaused &&
				c.Status == corev1.ConditionUnknown && c.Message == "Deployment is paused", nil
		})
		if n := len(e.replicaSets(t, d)); n != 1 {
			t.Fatalf("a paused deployment rolled out: %d replica sets", n)
		}
		// Scaling still works while paused.
		if out, err := e.kubectl(t, "-n", "pause", "scale", "deployment/app", "--replicas=3"); err != nil {
			t.Fatalf("scale: %v\n%s", err, out)
		}
		waitFor(t, "paused scale-up", func(ctx context.Context) (bool, error) {
			rss := e.replicaSets(t, d)
			return len(rss) == 1 && *rss[0].Spec.Replicas == 3, nil
		})
		if out, err := e.kubectl(t, "-n", "pause", "rollout", "resume", "deployment/app"); err != nil {
			t.Fatalf("rollout resume: %v\n%s", err, out)
		}
		d = e.waitRolledOut(t, "pause", "app")
		if d.Spec.Template.Spec.Containers[0].Image != "app:2" || d.Annotations[RevisionAnnotation] != "2" || d.Status.Replicas != 3 {
			t.Fatalf("after resume: %+v", d.Status)
		}
	})

	t.Run("revision history limit", func(t *testing.T) {
		e.namespace(t, "history")
		d := newDeployment("h", 1, "h:1")
		one := int32(1)
		d.Spec.RevisionHistoryLimit = &one
		if _, err := e.client.AppsV1().Deployments("history").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		d = e.waitRolledOut(t, "history", "h")
		for _, img := range []string{"h:2", "h:3", "h:4"} {
			e.setImage(t, "history", "h", img)
			e.waitRolledOut(t, "history", "h")
		}
		waitFor(t, "old replica sets pruned to 1", func(context.Context) (bool, error) {
			rss := e.replicaSets(t, d)
			revs := map[string]bool{}
			for _, rs := range rss {
				revs[rs.Annotations[RevisionAnnotation]] = true
			}
			return len(rss) == 2 && revs["3"] && revs["4"], nil
		})
	})

	t.Run("progress deadline", func(t *testing.T) {
		e.namespace(t, "deadline")
		d := newDeployment("stuck", 1, neverReadyImage)
		two := int32(2)
		d.Spec.ProgressDeadlineSeconds = &two
		if _, err := e.client.AppsV1().Deployments("deadline").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "ProgressDeadlineExceeded", func(ctx context.Context) (bool, error) {
			d, err := e.client.AppsV1().Deployments("deadline").Get(ctx, "stuck", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			c := getCondition(d.Status, appsv1.DeploymentProgressing)
			return c != nil && c.Status == corev1.ConditionFalse && c.Reason == ReasonTimedOut, nil
		})
		d = e.get(t, "deadline", "stuck")
		rs := e.replicaSets(t, d)[0]
		if c := getCondition(d.Status, appsv1.DeploymentProgressing); c.Message != fmt.Sprintf("ReplicaSet %q has timed out progressing.", rs.Name) {
			t.Fatalf("message %q", c.Message)
		}
		if c := getCondition(d.Status, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionFalse || c.Reason != ReasonMinimumUnavailable {
			t.Fatalf("Available = %+v", c)
		}
		out, err := e.kubectl(t, "-n", "deadline", "rollout", "status", "deployment/stuck", "--timeout=10s")
		if err == nil || !strings.Contains(out, `deployment "stuck" exceeded its progress deadline`) {
			t.Fatalf("rollout status: %v\n%s", err, out)
		}
	})

	t.Run("min ready seconds", func(t *testing.T) {
		e.namespace(t, "minready")
		w, err := e.client.AppsV1().ReplicaSets("minready").Watch(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		sawWaiting := make(chan struct{})
		go func() {
			for ev := range w.ResultChan() {
				if rs, ok := ev.Object.(*appsv1.ReplicaSet); ok && rs.Status.ReadyReplicas == 2 && rs.Status.AvailableReplicas < 2 {
					close(sawWaiting)
					return
				}
			}
		}()
		d := newDeployment("slow", 2, "slow:1")
		d.Spec.MinReadySeconds = 2
		if _, err := e.client.AppsV1().Deployments("minready").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		d = e.waitRolledOut(t, "minready", "slow")
		select {
		case <-sawWaiting:
		default:
			t.Fatalf("pods counted available without waiting minReadySeconds")
		}
		if rss := e.replicaSets(t, d); rss[0].Spec.MinReadySeconds != 2 {
			t.Fatalf("replica set minReadySeconds = %d", rss[0].Spec.MinReadySeconds)
		}
	})

	t.Run("proportional scaling mid-rollout", func(t *testing.T) {
		e.namespace(t, "prop")
		d := newDeployment("p", 10, "p:1")
		three, zero := intstr.FromInt32(3), intstr.FromInt32(0)
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &three, MaxUnavailable: &zero}}
		if _, err := e.client.AppsV1().Deployments("prop").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		d = e.waitRolledOut(t, "prop", "p")
		// The new pods never become ready, so the rollout stalls at 10 old + 3 new.
		e.setImage(t, "prop", "p", neverReadyImage)
		waitFor(t, "stalled rollout 10+3", func(context.Context) (bool, error) {
			return sizes(e.replicaSets(t, d)) == "10,3", nil
		})
		if out, err := e.kubectl(t, "-n", "prop", "scale", "deployment/p", "--replicas=20"); err != nil {
			t.Fatalf("scale: %v\n%s", err, out)
		}
		// 23 allowed pods: 10 more, spread 10:3 over 13 -> +8 and +2.
		waitFor(t, "proportional scale 18+5", func(context.Context) (bool, error) {
			return sizes(e.replicaSets(t, d)) == "18,5", nil
		})
	})
}

// sizes renders the spec.replicas of replica sets by revision.
func sizes(rss []appsv1.ReplicaSet) string {
	sort.Slice(rss, func(i, j int) bool { return revision(rss[i].Annotations) < revision(rss[j].Annotations) })
	var out []string
	for _, rs := range rss {
		out = append(out, fmt.Sprint(*rs.Spec.Replicas))
	}
	return strings.Join(out, ",")
}
