package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
)

func containerNames(d *appsv1.Deployment) []string {
	var out []string
	for _, c := range d.Spec.Template.Spec.Containers {
		out = append(out, c.Name+"="+c.Image)
	}
	return out
}

// managers returns "manager/operation/subresource" for every managedFields
// entry.
func managers(m metav1.Object) []string {
	var out []string
	for _, e := range m.GetManagedFields() {
		out = append(out, e.Manager+"/"+string(e.Operation)+"/"+e.Subresource)
	}
	slices.Sort(out)
	return out
}

// owns reports whether manager's managedFields entry mentions field (a
// fieldsV1 key such as `f:a`).
func owns(m metav1.Object, manager, field string) bool {
	for _, e := range m.GetManagedFields() {
		if e.Manager == manager && e.FieldsV1 != nil && strings.Contains(string(e.FieldsV1.Raw), `"`+field+`"`) {
			return true
		}
	}
	return false
}

func TestPatch(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	c := s.Client
	ctx := ctxFor(t)

	t.Run("patch types", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "patch-types")
		deps := c.AppsV1().Deployments(ns)
		d := deployment(ns, "web", 1)
		d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: "log", Image: "busybox:1"})
		for i, tc := range []struct {
			name  string
			typ   types.PatchType
			patch string
			want  []string
		}{
			{"strategic merge adds a container by name", types.StrategicMergePatchType,
				`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy:1"}]}}}}`,
				// (new items come before the live ones, as Kubernetes orders them)
				[]string{"sidecar=envoy:1", "app=nginx:1.27", "log=busybox:1"}},
			{"strategic merge changes a container by name", types.StrategicMergePatchType,
				`{"spec":{"template":{"spec":{"containers":[{"name":"log","image":"busybox:2"}]}}}}`,
				[]string{"app=nginx:1.27", "log=busybox:2"}},
			{"strategic merge deletes a container by name", types.StrategicMergePatchType,
				`{"spec":{"template":{"spec":{"containers":[{"name":"log","$patch":"delete"}]}}}}`,
				[]string{"app=nginx:1.27"}},
			{"merge patch replaces the list", types.MergePatchType,
				`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy:1"}]}}}}`,
				[]string{"sidecar=envoy:1"}},
			{"json patch adds to the list", types.JSONPatchType,
				`[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"extra","image":"redis:7"}}]`,
				[]string{"app=nginx:1.27", "log=busybox:1", "extra=redis:7"}},
			{"json patch replaces an element", types.JSONPatchType,
				`[{"op":"test","path":"/spec/template/spec/containers/0/name","value":"app"},{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:2"}]`,
				[]string{"app=nginx:2", "log=busybox:1"}},
		} {
			name := fmt.Sprintf("web-%d", i)
			t.Run(tc.name, func(t *testing.T) {
				dd := d.DeepCopy()
				dd.Name = name
				created, err := deps.Create(ctx, dd, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got, err := deps.Patch(ctx, name, tc.typ, []byte(tc.patch), metav1.PatchOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if n := containerNames(got); !slices.Equal(n, tc.want) {
					t.Errorf("containers %v, want %v", n, tc.want)
				}
				if got.Generation != created.Generation+1 {
					t.Errorf("generation %d after a template patch, want %d", got.Generation, created.Generation+1)
				}
				// Defaults apply to patched-in containers.
				for _, ctr := range got.Spec.Template.Spec.Containers {
					if ctr.TerminationMessagePath == "" || ctr.ImagePullPolicy == "" {
						t.Errorf("container %s not defaulted: %+v", ctr.Name, ctr)
					}
				}
			})
		}
	})

	t.Run("patch errors", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "patch-errors")
		cms := c.CoreV1().ConfigMaps(ns)
		if _, err := cms.Create(ctx, configMap(ns, "cm", nil, map[string]string{"a": "1"}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			typ   types.PatchType
			patch string
			check func(error) bool
			want  string
		}{
			{"failed json patch test", types.JSONPatchType, `[{"op":"test","path":"/data/a","value":"2"}]`, apierrors.IsInvalid, "422"},
			{"malformed json patch", types.JSONPatchType, `{"op":"add"}`, apierrors.IsBadRequest, "400"},
			{"malformed merge patch", types.MergePatchType, `{"data":`, apierrors.IsBadRequest, "400"},
			{"stale resourceVersion in merge patch", types.MergePatchType, `{"metadata":{"resourceVersion":"1"},"data":{"a":"3"}}`, apierrors.IsConflict, "409"},
			{"invalid result", types.MergePatchType, `{"metadata":{"labels":{"bad key!":"x"}}}`, apierrors.IsInvalid, "422"},
		} {
			_, err := cms.Patch(ctx, "cm", tc.typ, []byte(tc.patch), metav1.PatchOptions{})
			if !tc.check(err) {
				t.Errorf("%s: got %v (code %d), want %s", tc.name, err, statusCode(err), tc.want)
			}
		}
		if _, err := cms.Patch(ctx, "missing", types.MergePatchType, []byte(`{"data":{"a":"1"}}`), metav1.PatchOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("patch of a missing object: got %v, want 404", err)
		}
		got, err := cms.Get(ctx, "cm", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Data["a"] != "1" || len(got.Labels) != 0 {
			t.Errorf("failed patches changed the object: %v %v", got.Data, got.Labels)
		}
	})

	t.Run("server-side apply", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "apply")
		cms := c.CoreV1().ConfigMaps(ns)
		apply := func(manager string, force bool, data map[string]string) (*corev1.ConfigMap, error) {
			return cms.Apply(ctx, corev1ac.ConfigMap("cm", ns).WithData(data), metav1.ApplyOptions{FieldManager: manager, Force: force})
		}
		// Apply creates the object.
		cm, err := apply("alice", false, map[string]string{"a": "1", "b": "1"})
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data["a"] != "1" || cm.UID == "" {
			t.Fatalf("applied object %+v", cm)
		}
		if got := managers(cm); !slices.Equal(got, []string{"alice/Apply/"}) {
			t.Errorf("managedFields after apply: %v", got)
		}
		if !owns(cm, "alice", "f:a") || !owns(cm, "alice", "f:b") {
			t.Errorf("alice does not own data.a and data.b: %+v", cm.ManagedFields)
		}
		// Re-applying the same configuration changes nothing.
		again, err := apply("alice", false, map[string]string{"a": "1", "b": "1"})
		if err != nil {
			t.Fatal(err)
		}
		if again.ResourceVersion != cm.ResourceVersion {
			t.Errorf("identical apply changed resourceVersion %s -> %s", cm.ResourceVersion, again.ResourceVersion)
		}
		// Another manager setting the same field to another value conflicts.
		_, err = apply("bob", false, map[string]string{"a": "2"})
		if !apierrors.IsConflict(err) {
			t.Fatalf("conflicting apply: got %v, want 409 Conflict", err)
		}
		if !strings.Contains(err.Error(), "alice") || !strings.Contains(err.Error(), ".data.a") {
			t.Errorf("conflict message %q does not name the manager alice and field .data.a", err)
		}
		// Setting it to the same value is shared ownership, not a conflict.
		shared, err := apply("carol", false, map[string]string{"b": "1"})
		if err != nil {
			t.Fatalf("apply of an equal value: %v", err)
		}
		if !owns(shared, "carol", "f:b") || !owns(shared, "alice", "f:b") {
			t.Errorf("data.b not co-owned by alice and carol: %+v", shared.ManagedFields)
		}
		// Force takes the field over.
		forced, err := apply("bob", true, map[string]string{"a": "2"})
		if err != nil {
			t.Fatalf("forced apply: %v", err)
		}
		if forced.Data["a"] != "2" {
			t.Errorf("forced apply: data.a=%q", forced.Data["a"])
		}
		if owns(forced, "alice", "f:a") || !owns(forced, "bob", "f:a") {
			t.Errorf("after force: ownership of data.a %+v", forced.ManagedFields)
		}
		// A manager that stops applying a field it alone owns removes it;
		// fields owned by others stay.
		alice, err := apply("alice", false, map[string]string{"c": "1"})
		if err != nil {
			t.Fatal(err)
		}
		if alice.Data["a"] != "2" || alice.Data["b"] != "1" || alice.Data["c"] != "1" {
			t.Errorf("after alice drops a and b: data %v, want a=2 (bob) b=1 (carol) c=1", alice.Data)
		}
		alice, err = apply("alice", false, map[string]string{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := alice.Data["c"]; ok {
			t.Errorf("data.c still present after its only manager stopped applying it: %v", alice.Data)
		}
		// Updates are tracked too, under their field manager.
		upd := alice.DeepCopy()
		upd.Data["d"] = "1"
		updated, err := cms.Update(ctx, upd, metav1.UpdateOptions{FieldManager: "dave"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(managers(updated), "dave/Update/") || !owns(updated, "dave", "f:d") {
			t.Errorf("update by dave not tracked: %v", managers(updated))
		}
		// PatchOptions validation failures are 422 Invalid: apply needs a
		// field manager, force is for apply only, managers are at most 128
		// bytes.
		_, err = cms.Apply(ctx, corev1ac.ConfigMap("cm", ns), metav1.ApplyOptions{})
		if !apierrors.IsInvalid(err) {
			t.Errorf("apply without fieldManager: got %v (code %d), want 422 Invalid", err, statusCode(err))
		}
		err = c.CoreV1().RESTClient().Patch(types.MergePatchType).Namespace(ns).Resource("configmaps").Name("cm").
			Param("force", "true").Body([]byte(`{"data":{"e":"1"}}`)).Do(ctx).Error()
		if !apierrors.IsInvalid(err) {
			t.Errorf("merge patch with force: got %v (code %d), want 422 Invalid", err, statusCode(err))
		}
		long := strings.Repeat("m", 129)
		_, err = cms.Patch(ctx, "cm", types.MergePatchType, []byte(`{"data":{"e":"1"}}`), metav1.PatchOptions{FieldManager: long})
		if !apierrors.IsInvalid(err) {
			t.Errorf("patch with a 129-byte fieldManager: got %v (code %d), want 422 Invalid", err, statusCode(err))
		}
		if got, err := cms.Get(ctx, "cm", metav1.GetOptions{}); err != nil || got.Data["e"] != "" {
			t.Errorf("refused patches changed the object: %v %v", got.Data, err)
		}
	})

	t.Run("server-side apply of a deployment", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "apply-deploy")
		deps := c.AppsV1().Deployments(ns)
		cfg := func(image string, replicas int32) *appsv1ac.DeploymentApplyConfiguration {
			return appsv1ac.Deployment("web", ns).WithSpec(appsv1ac.DeploymentSpec().
				WithReplicas(replicas).
				WithSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{"app": "web"})).
				WithTemplate(corev1ac.PodTemplateSpec().
					WithLabels(map[string]string{"app": "web"}).
					WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().WithName("app").WithImage(image)))))
		}
		d, err := deps.Apply(ctx, cfg("nginx:1", 2), metav1.ApplyOptions{FieldManager: "deployer"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Generation != 1 || *d.Spec.Replicas != 2 || d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit != 10 {
			t.Errorf("applied deployment: generation %d replicas %d revisionHistoryLimit %v", d.Generation, *d.Spec.Replicas, d.Spec.RevisionHistoryLimit)
		}
		// A scaler (e.g. an autoscaler) changes replicas through the scale
		// subresource; the deployer's next apply of replicas conflicts.
		sc, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sc.Spec.Replicas = 4
		if _, err := deps.UpdateScale(ctx, "web", sc, metav1.UpdateOptions{FieldManager: "scaler"}); err != nil {
			t.Fatal(err)
		}
		_, err = deps.Apply(ctx, cfg("nginx:2", 2), metav1.ApplyOptions{FieldManager: "deployer"})
		if !apierrors.IsConflict(err) {
			t.Fatalf("apply of replicas changed by another manager: got %v, want 409", err)
		}
		// Applying without replicas hands them to the scaler.
		noReplicas := cfg("nginx:2", 0)
		noReplicas.Spec.Replicas = nil
		d, err = deps.Apply(ctx, noReplicas, metav1.ApplyOptions{FieldManager: "deployer"})
		if err != nil {
			t.Fatal(err)
		}
		if *d.Spec.Replicas != 4 || d.Spec.Template.Spec.Containers[0].Image != "nginx:2" {
			t.Errorf("after apply without replicas: replicas %d image %s", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image)
		}
		// Status is applied through the status subresource.
		st, err := deps.ApplyStatus(ctx, appsv1ac.Deployment("web", ns).WithStatus(appsv1ac.DeploymentStatus().WithObservedGeneration(d.Generation).WithReplicas(4)),
			metav1.ApplyOptions{FieldManager: "controller", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if st.Status.Replicas != 4 || *st.Spec.Replicas != 4 {
			t.Errorf("after status apply: status.replicas %d spec.replicas %d", st.Status.Replicas, *st.Spec.Replicas)
		}
		if !slices.Contains(managers(st), "controller/Apply/status") {
			t.Errorf("status apply not recorded with subresource status: %v", managers(st))
		}
	})
}
