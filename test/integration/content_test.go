package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
)

var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// protobufMagic starts every Kubernetes protobuf payload.
var protobufMagic = []byte("k8s\x00")

func TestContentTypes(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	c := s.Client
	ctx := ctxFor(t)

	t.Run("typed clients", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name string
			c    kubernetes.Interface
		}{
			{"protobuf", kubernetes.NewForConfigOrDie(protobufConfig(s))},
			{"json", kubernetes.NewForConfigOrDie(jsonConfig(s))},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ns := createNamespace(t, c, "content-"+tc.name)
				pods := tc.c.CoreV1().Pods(ns)
				p := pod(ns, "p", map[string]string{"app": "x"})
				p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "K", Value: "V"}}
				created, err := pods.Create(ctx, p, metav1.CreateOptions{})
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				if created.UID == "" || created.Spec.Containers[0].Env[0].Value != "V" || created.Spec.RestartPolicy != corev1.RestartPolicyAlways {
					t.Errorf("created pod %+v", created.Spec)
				}
				w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: created.ResourceVersion})
				if err != nil {
					t.Fatalf("watch: %v", err)
				}
				defer w.Stop()
				got, err := pods.Get(ctx, "p", metav1.GetOptions{})
				if err != nil {
					t.Fatalf("get: %v", err)
				}
				got.Labels["changed"] = "yes"
				updated, err := pods.Update(ctx, got, metav1.UpdateOptions{})
				if err != nil {
					t.Fatalf("update: %v", err)
				}
				ev := nextEvent(t, w, 10*time.Second)
				if wp, ok := ev.Object.(*corev1.Pod); !ok || ev.Type != watch.Modified || wp.ResourceVersion != updated.ResourceVersion {
					t.Errorf("watch event %s, want MODIFIED rv=%s", describeEvent(ev), updated.ResourceVersion)
				}
				l, err := pods.List(ctx, metav1.ListOptions{})
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				if len(l.Items) != 1 || l.Items[0].Labels["changed"] != "yes" || l.ResourceVersion == "" {
					t.Errorf("list %+v", l)
				}
				if _, err := pods.Patch(ctx, "p", types.StrategicMergePatchType, []byte(`{"metadata":{"labels":{"patched":"yes"}}}`), metav1.PatchOptions{}); err != nil {
					t.Fatalf("patch: %v", err)
				}
				if err := pods.Delete(ctx, "p", metav1.DeleteOptions{}); err != nil {
					t.Fatalf("delete: %v", err)
				}
				// Errors decode as Status in either form.
				_, err = pods.Get(ctx, "p", metav1.GetOptions{})
				if !apierrors.IsNotFound(err) {
					t.Errorf("get after delete: %v", err)
				}
			})
		}
	})

	t.Run("protobuf on the wire", func(t *testing.T) {
		t.Parallel()
		rc := kubernetes.NewForConfigOrDie(protobufConfig(s)).CoreV1().RESTClient()
		for _, tc := range []struct {
			name string
			path string
		}{
			{"get", "/api/v1/namespaces/default"},
			{"list", "/api/v1/namespaces"},
		} {
			body, err := rc.Get().AbsPath(tc.path).SetHeader("Accept", "application/vnd.kubernetes.protobuf").DoRaw(ctx)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !bytes.HasPrefix(body, protobufMagic) {
				t.Errorf("%s with Accept protobuf: body starts %q, not protobuf", tc.name, body[:min(len(body), 20)])
			}
		}
	})

	t.Run("table", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "table")
		for _, n := range []string{"p1", "p2"} {
			if _, err := c.CoreV1().Pods(ns).Create(ctx, pod(ns, n, nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, accept := range []string{
			"application/json;as=Table;v=v1;g=meta.k8s.io",
			"application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
		} {
			body, err := c.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").SetHeader("Accept", accept).DoRaw(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var table metav1.Table
			if err := json.Unmarshal(body, &table); err != nil {
				t.Fatalf("decoding table: %v", err)
			}
			if table.Kind != "Table" || table.APIVersion != "meta.k8s.io/v1" {
				t.Errorf("kind %s apiVersion %s, want Table meta.k8s.io/v1", table.Kind, table.APIVersion)
			}
			var cols, wide []string
			for _, col := range table.ColumnDefinitions {
				if col.Priority == 0 {
					cols = append(cols, col.Name)
				} else {
					wide = append(wide, col.Name)
				}
			}
			if want := []string{"Name", "Ready", "Status", "Restarts", "Age"}; !slices.Equal(cols, want) {
				t.Errorf("columns %v, want %v", cols, want)
			}
			for _, w := range []string{"IP", "Node"} {
				if !slices.Contains(wide, w) {
					t.Errorf("wide columns %v lack %s", wide, w)
				}
			}
			if len(table.Rows) != 2 {
				t.Fatalf("%d rows, want 2", len(table.Rows))
			}
			for i, row := range table.Rows {
				if len(row.Cells) != len(table.ColumnDefinitions) {
					t.Errorf("row %d has %d cells for %d columns", i, len(row.Cells), len(table.ColumnDefinitions))
					continue
				}
				want := []interface{}{fmt.Sprintf("p%d", i+1), "0/1", "Pending", "0"}
				for j, w := range want {
					if row.Cells[j] != w {
						t.Errorf("row %d cell %s = %v (%T), want %v", i, table.ColumnDefinitions[j].Name, row.Cells[j], row.Cells[j], w)
					}
				}
				// The default includeObject=Metadata embeds partial metadata.
				var pm metav1.PartialObjectMetadata
				if err := json.Unmarshal(row.Object.Raw, &pm); err != nil || pm.Kind != "PartialObjectMetadata" || pm.Name != fmt.Sprintf("p%d", i+1) {
					t.Errorf("row %d object: %s (%v)", i, row.Object.Raw, err)
				}
			}
			if table.ResourceVersion == "" {
				t.Errorf("table has no resourceVersion")
			}
		}
		// A single object as a table.
		body, err := c.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").Name("p1").
			SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var table metav1.Table
		if err := json.Unmarshal(body, &table); err != nil || len(table.Rows) != 1 || table.Rows[0].Cells[0] != "p1" {
			t.Errorf("single-object table: %s (%v)", body, err)
		}
		// Services have their own columns.
		body, err = c.CoreV1().RESTClient().Get().Namespace("default").Resource("services").
			SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		table = metav1.Table{}
		if err := json.Unmarshal(body, &table); err != nil {
			t.Fatal(err)
		}
		var cols []string
		for _, col := range table.ColumnDefinitions {
			if col.Priority == 0 {
				cols = append(cols, col.Name)
			}
		}
		if want := []string{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"}; !slices.Equal(cols, want) {
			t.Errorf("service columns %v, want %v", cols, want)
		}
		// An unsupported media type is 406.
		err = c.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").SetHeader("Accept", "application/xml").Do(ctx).Error()
		if statusCode(err) != 406 {
			t.Errorf("Accept application/xml: got %v (code %d), want 406", err, statusCode(err))
		}
	})

	t.Run("metadata client", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "metadata")
		for _, n := range []string{"m1", "m2"} {
			if _, err := c.CoreV1().Pods(ns).Create(ctx, pod(ns, n, map[string]string{"name": n}), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		mc, err := metadata.NewForConfig(s.Config)
		if err != nil {
			t.Fatal(err)
		}
		l, err := mc.Resource(podsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l.ResourceVersion == "" || len(l.Items) != 2 {
			t.Fatalf("metadata list: rv %q, %d items", l.ResourceVersion, len(l.Items))
		}
		for i, it := range l.Items {
			name := fmt.Sprintf("m%d", i+1)
			if it.Name != name || it.Labels["name"] != name || it.UID == "" {
				t.Errorf("item %d: %+v", i, it)
			}
		}
		one, err := mc.Resource(podsGVR).Namespace(ns).Get(ctx, "m1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if one.Name != "m1" || one.Namespace != ns {
			t.Errorf("metadata get: %+v", one)
		}
		w, err := mc.Resource(podsGVR).Namespace(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if err := c.CoreV1().Pods(ns).Delete(ctx, "m2", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		ev := nextEvent(t, w, 10*time.Second)
		if pm, ok := ev.Object.(*metav1.PartialObjectMetadata); !ok || ev.Type != watch.Deleted || pm.Name != "m2" {
			t.Errorf("metadata watch: %s (%T)", describeEvent(ev), ev.Object)
		}
	})

	t.Run("dynamic client", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "dynamic")
		dc, err := dynamic.NewForConfig(s.Config)
		if err != nil {
			t.Fatal(err)
		}
		cmGVR := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
		u := &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]interface{}{"name": "u"},
			"data":     map[string]interface{}{"k": "v"},
		}}
		created, err := dc.Resource(cmGVR).Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if created.GetUID() == "" || created.GetKind() != "ConfigMap" {
			t.Errorf("dynamic create: %v", created.Object)
		}
		// Unknown fields are refused under strict field validation.
		u2 := u.DeepCopy()
		u2.SetName("u2")
		u2.Object["bogus"] = "x"
		_, err = dc.Resource(cmGVR).Namespace(ns).Create(ctx, u2, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
		if !apierrors.IsBadRequest(err) {
			t.Errorf("strict create with an unknown field: got %v, want 400", err)
		}
	})
}
