package integration

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func deployment(ns, name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "nginx:1.27",
				}}},
			},
		},
	}
}

func TestWrites(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	c := s.Client
	ctx := ctxFor(t)

	t.Run("generateName", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "generate-name")
		seen := map[string]bool{}
		for range 3 {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "gen-"}}
			got, err := c.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got.Name, "gen-") || len(got.Name) != len("gen-")+5 {
				t.Errorf("generated name %q, want gen- and 5 characters", got.Name)
			}
			if got.GenerateName != "gen-" {
				t.Errorf("generateName %q not kept", got.GenerateName)
			}
			if seen[got.Name] {
				t.Errorf("name %q generated twice", got.Name)
			}
			seen[got.Name] = true
			if _, err := c.CoreV1().ConfigMaps(ns).Get(ctx, got.Name, metav1.GetOptions{}); err != nil {
				t.Errorf("get %s: %v", got.Name, err)
			}
		}
	})

	t.Run("server-set metadata", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "server-meta")
		in := configMap(ns, "cm", nil, nil)
		in.UID = "client-uid"
		in.ResourceVersion = ""
		got, err := c.CoreV1().ConfigMaps(ns).Create(ctx, in, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.UID == "" || got.UID == "client-uid" {
			t.Errorf("uid %q: want one set by the server", got.UID)
		}
		if got.CreationTimestamp.IsZero() {
			t.Errorf("creationTimestamp not set")
		}
		if got.ResourceVersion == "" {
			t.Errorf("resourceVersion not set")
		}
		_, err = c.CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "cm", nil, nil), metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			t.Errorf("second create: got %v, want 409 AlreadyExists", err)
		}
	})

	t.Run("dryRun", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "dry-run")
		cms := c.CoreV1().ConfigMaps(ns)
		dry := []string{metav1.DryRunAll}
		got, err := cms.Create(ctx, configMap(ns, "dry", nil, map[string]string{"k": "v"}), metav1.CreateOptions{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "dry" || got.Data["k"] != "v" {
			t.Errorf("dry-run create returned %+v", got)
		}
		if _, err := cms.Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get after dry-run create: got %v, want NotFound", err)
		}
		if l, err := cms.List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) != 0 {
			t.Errorf("list after dry-run create: %v items, err %v; want none", len(l.Items), err)
		}
		// A dry-run create with generateName gets a name but stores nothing.
		gen, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "dry-"}}, metav1.CreateOptions{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(gen.Name, "dry-") {
			t.Errorf("dry-run generateName produced %q", gen.Name)
		}
		// Dry-run update and delete change nothing either.
		real, err := cms.Create(ctx, configMap(ns, "real", nil, map[string]string{"k": "v"}), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		upd := real.DeepCopy()
		upd.Data["k"] = "changed"
		if _, err := cms.Update(ctx, upd, metav1.UpdateOptions{DryRun: dry}); err != nil {
			t.Fatal(err)
		}
		if err := cms.Delete(ctx, "real", metav1.DeleteOptions{DryRun: dry}); err != nil {
			t.Fatal(err)
		}
		after, err := cms.Get(ctx, "real", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get after dry-run update and delete: %v", err)
		}
		if after.Data["k"] != "v" || after.ResourceVersion != real.ResourceVersion {
			t.Errorf("dry-run update changed the object: data %v rv %s -> %s", after.Data, real.ResourceVersion, after.ResourceVersion)
		}
		// An invalid dry-run value fails CreateOptions validation: 422.
		_, err = cms.Create(ctx, configMap(ns, "bad", nil, nil), metav1.CreateOptions{DryRun: []string{"Some"}})
		if !apierrors.IsInvalid(err) {
			t.Errorf("dryRun=Some: got %v (code %d), want 422 Invalid", err, statusCode(err))
		}
	})

	t.Run("optimistic concurrency", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "concurrency")
		cms := c.CoreV1().ConfigMaps(ns)
		v1, err := cms.Create(ctx, configMap(ns, "cm", nil, map[string]string{"v": "1"}), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		a := v1.DeepCopy()
		a.Data["v"] = "a"
		v2, err := cms.Update(ctx, a, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v2.ResourceVersion == v1.ResourceVersion {
			t.Errorf("update kept resourceVersion %s", v1.ResourceVersion)
		}
		// A second writer still holding the first version conflicts.
		b := v1.DeepCopy()
		b.Data["v"] = "b"
		_, err = cms.Update(ctx, b, metav1.UpdateOptions{})
		if !apierrors.IsConflict(err) {
			t.Fatalf("update with stale resourceVersion: got %v, want 409 Conflict", err)
		}
		// Without a resourceVersion the update is unconditional.
		b.ResourceVersion = ""
		v3, err := cms.Update(ctx, b, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("update without resourceVersion: %v", err)
		}
		if v3.Data["v"] != "b" {
			t.Errorf("unconditional update stored %v", v3.Data)
		}
		// Updating a missing object is 404.
		missing := configMap(ns, "missing", nil, nil)
		if _, err := cms.Update(ctx, missing, metav1.UpdateOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("update of a missing object: got %v, want 404", err)
		}
		// A no-op update writes nothing: the resourceVersion stays.
		same, err := cms.Update(ctx, v3, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if same.ResourceVersion != v3.ResourceVersion {
			t.Errorf("no-op update changed resourceVersion %s -> %s", v3.ResourceVersion, same.ResourceVersion)
		}
	})

	t.Run("generation and status", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "generation")
		deps := c.AppsV1().Deployments(ns)
		d, err := deps.Create(ctx, deployment(ns, "web", 1), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Generation != 1 {
			t.Fatalf("new deployment generation %d, want 1", d.Generation)
		}
		// Each step changes something and states the generation expected
		// afterwards.
		steps := []struct {
			name   string
			change func(d *appsv1.Deployment) (*appsv1.Deployment, error)
			gen    int64
		}{
			{"spec change bumps", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
				d.Spec.Replicas = ptr(int32(3))
				return deps.Update(ctx, d, metav1.UpdateOptions{})
			}, 2},
			{"label change keeps", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
				d.Labels = map[string]string{"team": "a"}
				return deps.Update(ctx, d, metav1.UpdateOptions{})
			}, 2},
			{"status update keeps", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
				d.Status.ObservedGeneration = d.Generation
				d.Status.Replicas = 3
				return deps.UpdateStatus(ctx, d, metav1.UpdateOptions{})
			}, 2},
			{"template change bumps", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
				d.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
				return deps.Update(ctx, d, metav1.UpdateOptions{})
			}, 3},
			{"client-set generation ignored", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
				d.Generation = 42
				return deps.Update(ctx, d, metav1.UpdateOptions{})
			}, 3},
			// Deployments (only) also bump on annotation changes, since
			// annotations are copied to their ReplicaSets.
			{"deployment annotation change bumps", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
				d.Annotations = map[string]string{"note": "x"}
				return deps.Update(ctx, d, metav1.UpdateOptions{})
			}, 4},
		}
		for _, st := range steps {
			cur, err := deps.Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := st.change(cur)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if got.Generation != st.gen {
				t.Errorf("%s: generation %d, want %d", st.name, got.Generation, st.gen)
			}
		}

		// Other resources keep their generation on annotation changes.
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs"}, Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr(int32(1)), Selector: d.Spec.Selector, Template: d.Spec.Template}}
		rs, err = c.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rs.Annotations = map[string]string{"note": "x"}
		rs.Labels = map[string]string{"team": "a"}
		if rs, err = c.AppsV1().ReplicaSets(ns).Update(ctx, rs, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		} else if rs.Generation != 1 {
			t.Errorf("replicaset generation %d after a metadata change, want 1", rs.Generation)
		}

		// The status subresource ignores spec changes; the main resource
		// ignores status changes.
		cur, err := deps.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		viaStatus := cur.DeepCopy()
		viaStatus.Spec.Replicas = ptr(int32(9))
		viaStatus.Labels["via"] = "status"
		viaStatus.Status.ReadyReplicas = 2
		got, err := deps.UpdateStatus(ctx, viaStatus, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *got.Spec.Replicas != *cur.Spec.Replicas {
			t.Errorf("status update changed spec.replicas to %d", *got.Spec.Replicas)
		}
		if got.Labels["via"] == "status" {
			t.Errorf("status update changed labels")
		}
		if got.Status.ReadyReplicas != 2 {
			t.Errorf("status update did not store status.readyReplicas: %d", got.Status.ReadyReplicas)
		}
		viaMain := got.DeepCopy()
		viaMain.Status.ReadyReplicas = 7
		viaMain.Spec.MinReadySeconds = 5
		got, err = deps.Update(ctx, viaMain, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.ReadyReplicas != 2 {
			t.Errorf("main update changed status.readyReplicas to %d", got.Status.ReadyReplicas)
		}
		if got.Spec.MinReadySeconds != 5 {
			t.Errorf("main update lost spec.minReadySeconds")
		}
		stored, err := deps.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if stored.Status.ReadyReplicas != 2 || *stored.Spec.Replicas != *cur.Spec.Replicas {
			t.Errorf("stored deployment: readyReplicas %d replicas %d", stored.Status.ReadyReplicas, *stored.Spec.Replicas)
		}

		// Pods: spec changes through the status subresource are ignored
		// too.
		p, err := c.CoreV1().Pods(ns).Create(ctx, pod(ns, "p", nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Spec.Containers[0].Image = "nginx:9"
		p.Status.Message = "hello"
		p2, err := c.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p2.Spec.Containers[0].Image != "nginx:1.27" || p2.Status.Message != "hello" {
			t.Errorf("pod status update: image %q message %q", p2.Spec.Containers[0].Image, p2.Status.Message)
		}
	})

	t.Run("scale subresource", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "scale")
		d, err := c.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", 2), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := c.AppsV1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if sc.Spec.Replicas != 2 || sc.Name != "web" || sc.Namespace != ns || sc.UID != d.UID {
			t.Errorf("scale %+v", sc)
		}
		if sc.Status.Selector != "app=web" {
			t.Errorf("scale status.selector %q, want app=web", sc.Status.Selector)
		}
		sc.Spec.Replicas = 5
		up, err := c.AppsV1().Deployments(ns).UpdateScale(ctx, "web", sc, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if up.Spec.Replicas != 5 {
			t.Errorf("updated scale replicas %d, want 5", up.Spec.Replicas)
		}
		got, err := c.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *got.Spec.Replicas != 5 || got.Generation != 2 {
			t.Errorf("deployment after scale: replicas %d generation %d, want 5 and 2", *got.Spec.Replicas, got.Generation)
		}
		// A scale with a stale resourceVersion conflicts.
		sc.Spec.Replicas = 1
		if _, err := c.AppsV1().Deployments(ns).UpdateScale(ctx, "web", sc, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
			t.Errorf("scale with stale resourceVersion: got %v, want 409", err)
		}
		// Negative replicas are invalid.
		up.Spec.Replicas = -1
		if _, err := c.AppsV1().Deployments(ns).UpdateScale(ctx, "web", up, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
			t.Errorf("scale to -1: got %v, want 422", err)
		}
		// ReplicaSets and StatefulSets have the subresource as well.
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs"}, Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr(int32(1)), Selector: d.Spec.Selector, Template: d.Spec.Template}}
		if _, err := c.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		rsc, err := c.AppsV1().ReplicaSets(ns).GetScale(ctx, "rs", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rsc.Spec.Replicas = 4
		if _, err := c.AppsV1().ReplicaSets(ns).UpdateScale(ctx, "rs", rsc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if got, err := c.AppsV1().ReplicaSets(ns).Get(ctx, "rs", metav1.GetOptions{}); err != nil || *got.Spec.Replicas != 4 {
			t.Errorf("replicaset after scale: %v %v", got, err)
		}
		// Resources without the subresource answer 404.
		err = c.CoreV1().RESTClient().Get().Namespace(ns).Resource("configmaps").Name("x").SubResource("scale").Do(ctx).Error()
		if !apierrors.IsNotFound(err) {
			t.Errorf("configmaps/scale: got %v, want 404", err)
		}
	})
}
