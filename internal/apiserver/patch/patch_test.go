package patch

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
)

func TestPatch(t *testing.T) {
	images := func(d *appsv1.Deployment) []string {
		var out []string
		for _, c := range d.Spec.Template.Spec.Containers {
			out = append(out, c.Name+"="+c.Image)
		}
		return out
	}
	tests := []struct {
		name      string
		patchType types.PatchType
		patch     string
		strict    bool
		wantCode  int32  // 0: success
		wantMsg   string // substring of the error message
		check     func(t *testing.T, got *appsv1.Deployment)
	}{
		{
			name: "json patch add", patchType: types.JSONPatchType,
			patch: `[{"op":"add","path":"/metadata/labels/env","value":"prod"}]`,
			check: func(t *testing.T, got *appsv1.Deployment) {
				if got.Labels["env"] != "prod" || got.Labels["app"] != "web" {
					t.Errorf("labels = %v", got.Labels)
				}
			},
		},
		{
			name: "json patch test then replace", patchType: types.JSONPatchType,
			patch: `[{"op":"test","path":"/spec/replicas","value":3},{"op":"replace","path":"/spec/replicas","value":7}]`,
			check: func(t *testing.T, got *appsv1.Deployment) {
				if *got.Spec.Replicas != 7 {
					t.Errorf("replicas = %d, want 7", *got.Spec.Replicas)
				}
			},
		},
		{
			name: "json patch can test kind", patchType: types.JSONPatchType,
			patch: `[{"op":"test","path":"/kind","value":"Deployment"},{"op":"test","path":"/apiVersion","value":"apps/v1"}]`,
			check: func(t *testing.T, got *appsv1.Deployment) {},
		},
		{
			name: "json patch test failure", patchType: types.JSONPatchType,
			patch:    `[{"op":"test","path":"/spec/replicas","value":4}]`,
			wantCode: 422, wantMsg: "the server rejected our request due to an error in our request",
		},
		{
			name: "json patch missing path", patchType: types.JSONPatchType,
			patch:    `[{"op":"replace","path":"/spec/nothere/x","value":1}]`,
			wantCode: 422, wantMsg: "the server rejected our request due to an error in our request",
		},
		{
			name: "json patch malformed", patchType: types.JSONPatchType,
			patch: `{"op":"add"}`, wantCode: 400,
		},
		{
			name: "json patch unknown op field strict", patchType: types.JSONPatchType, strict: true,
			patch:    `[{"op":"add","path":"/metadata/labels/x","value":"y","bogus":1}]`,
			wantCode: 400, wantMsg: `strict decoding error: json patch unknown field "[0].bogus"`,
		},
		{
			name: "json patch unknown field strict", patchType: types.JSONPatchType, strict: true,
			patch:    `[{"op":"add","path":"/spec/foo","value":1}]`,
			wantCode: 400, wantMsg: `strict decoding error: unknown field "spec.foo"`,
		},
		{
			name: "json patch wrong type", patchType: types.JSONPatchType,
			patch:    `[{"op":"replace","path":"/spec/replicas","value":"many"}]`,
			wantCode: 422, wantMsg: `patch: Invalid value`,
		},
		{
			name: "merge patch null deletes", patchType: types.MergePatchType,
			patch: `{"metadata":{"labels":{"tier":null}},"spec":{"replicas":5}}`,
			check: func(t *testing.T, got *appsv1.Deployment) {
				if _, ok := got.Labels["tier"]; ok || got.Labels["app"] != "web" {
					t.Errorf("labels = %v, want tier deleted and app kept", got.Labels)
				}
				if *got.Spec.Replicas != 5 {
					t.Errorf("replicas = %d, want 5", *got.Spec.Replicas)
				}
			},
		},
		{
			name: "merge patch replaces lists", patchType: types.MergePatchType,
			patch: `{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"c:1"}]}}}}`,
			check: func(t *testing.T, got *appsv1.Deployment) {
				if want := []string{"c=c:1"}; !reflect.DeepEqual(images(got), want) {
					t.Errorf("containers = %v, want %v", images(got), want)
				}
			},
		},
		{
			name: "merge patch null", patchType: types.MergePatchType,
			patch: `null`, wantCode: 400,
		},
		{
			name: "merge patch array replaces the document", patchType: types.MergePatchType,
			patch: `[1,2]`, wantCode: 422, wantMsg: "cannot unmarshal array",
		},
		{
			name: "merge patch unknown field dropped", patchType: types.MergePatchType,
			patch: `{"spec":{"foo":1,"paused":true}}`,
			check: func(t *testing.T, got *appsv1.Deployment) {
				if !got.Spec.Paused {
					t.Error("paused not set")
				}
			},
		},
		{
			name: "merge patch unknown field strict", patchType: types.MergePatchType, strict: true,
			patch:    `{"spec":{"foo":1,"bar":2}}`,
			wantCode: 400, wantMsg: `strict decoding error: unknown field "spec.bar", unknown field "spec.foo"`,
		},
		{
			name: "merge patch field names are case sensitive", patchType: types.MergePatchType, strict: true,
			patch:    `{"spec":{"Replicas":9}}`,
			wantCode: 400, wantMsg: `unknown field "spec.Replicas"`,
		},
		{
			name: "merge patch duplicate field strict", patchType: types.MergePatchType, strict: true,
			patch:    `{"spec":{"paused":true,"paused":false}}`,
			wantCode: 400, wantMsg: `strict decoding error: duplicate field "spec.paused"`,
		},
		{
			name: "merge patch cannot change kind", patchType: types.MergePatchType,
			patch: `{"kind":"Service"}`, wantCode: 422,
		},
		{
			name: "strategic merge by container name", patchType: types.StrategicMergePatchType,
			patch: `{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"b:2"},{"name":"c","image":"c:1"}]}}}}`,
			check: func(t *testing.T, got *appsv1.Deployment) {
				want := []string{"a=a:1", "b=b:2", "c=c:1"}
				if !reflect.DeepEqual(images(got), want) {
					t.Errorf("containers = %v, want %v", images(got), want)
				}
			},
		},
		{
			name: "strategic merge $patch delete", patchType: types.StrategicMergePatchType,
			patch: `{"spec":{"template":{"spec":{"containers":[{"name":"a","$patch":"delete"}]}}}}`,
			check: func(t *testing.T, got *appsv1.Deployment) {
				if want := []string{"b=b:1"}; !reflect.DeepEqual(images(got), want) {
					t.Errorf("containers = %v, want %v", images(got), want)
				}
			},
		},
		{
			name: "strategic merge null deletes map key", patchType: types.StrategicMergePatchType,
			patch: `{"metadata":{"labels":{"tier":null}}}`,
			check: func(t *testing.T, got *appsv1.Deployment) {
				if _, ok := got.Labels["tier"]; ok {
					t.Errorf("labels = %v, want tier deleted", got.Labels)
				}
			},
		},
		{
			name: "strategic merge unknown field strict", patchType: types.StrategicMergePatchType, strict: true,
			patch:    `{"spec":{"foo":1}}`,
			wantCode: 400, wantMsg: `strict decoding error: unknown field "spec.foo"`,
		},
		{
			name: "strategic merge unknown field dropped", patchType: types.StrategicMergePatchType,
			patch: `{"spec":{"foo":1,"paused":true}}`,
			check: func(t *testing.T, got *appsv1.Deployment) {
				if !got.Spec.Paused {
					t.Error("paused not set")
				}
			},
		},
		{
			name: "strategic merge unknown directive", patchType: types.StrategicMergePatchType,
			patch:    `{"spec":{"template":{"spec":{"containers":[{"name":"a","$patch":"explode"}]}}}}`,
			wantCode: 500, wantMsg: "unknown patch type: explode",
		},
		{
			name: "strategic merge bad retainKeys", patchType: types.StrategicMergePatchType,
			patch: `{"spec":{"strategy":{"$retainKeys":"type"}}}`, wantCode: 400, wantMsg: "invalid patch format of retainKeys",
		},
		{
			name: "strategic merge malformed", patchType: types.StrategicMergePatchType,
			patch: `{"spec":`, wantCode: 400,
		},
		{
			name: "strategic merge list where map belongs", patchType: types.StrategicMergePatchType,
			patch: `{"spec":{"template":{"spec":{"containers":{"x":1}}}}}`, wantCode: 422,
		},
		{
			name: "unsupported patch type", patchType: "application/xml",
			patch: `<x/>`, wantCode: 415, wantMsg: "accepted media types include: application/json-patch+json",
		},
	}
	m := newTestManager()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current := testDeployment(3)
			before := current.DeepCopy()
			got, err := m.Patch(current, tt.patchType, []byte(tt.patch), tt.strict)
			if !reflect.DeepEqual(current, before) {
				t.Error("Patch modified current")
			}
			if tt.wantCode != 0 {
				if err == nil {
					t.Fatalf("err = nil, want %d", tt.wantCode)
				}
				if code := statusCode(err); code != tt.wantCode {
					t.Errorf("code = %d, want %d (%v)", code, tt.wantCode, err)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Patch: %v", err)
			}
			d, ok := got.(*appsv1.Deployment)
			if !ok {
				t.Fatalf("got %T, want *appsv1.Deployment", got)
			}
			if d == current {
				t.Fatal("Patch returned current itself")
			}
			if d.Name != "web" || d.UID != "uid-1" {
				t.Errorf("metadata lost: %+v", d.ObjectMeta)
			}
			tt.check(t, d)
		})
	}
}

func TestPatchKeepsTypeMetaAndDefaults(t *testing.T) {
	defaultHistory := func(obj runtime.Object) {
		if d, ok := obj.(*appsv1.Deployment); ok && d.Spec.RevisionHistoryLimit == nil {
			limit := int32(10)
			d.Spec.RevisionHistoryLimit = &limit
		}
	}
	m := NewManager(scheme.Scheme, WithDefaulter(defaultHistory))
	tests := []struct {
		name      string
		patchType types.PatchType
		patch     string
		typeMeta  metav1.TypeMeta
	}{
		{"json patch, no type meta", types.JSONPatchType, `[{"op":"replace","path":"/spec/paused","value":true}]`, metav1.TypeMeta{}},
		{"merge patch, type meta", types.MergePatchType, `{"spec":{"paused":true}}`, metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}},
		{"strategic merge, no type meta", types.StrategicMergePatchType, `{"spec":{"paused":true}}`, metav1.TypeMeta{}},
		{"strategic merge, type meta", types.StrategicMergePatchType, `{"spec":{"paused":true}}`, metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current := testDeployment(1)
			current.TypeMeta = tt.typeMeta
			got, err := m.Patch(current, tt.patchType, []byte(tt.patch), true)
			if err != nil {
				t.Fatal(err)
			}
			d := got.(*appsv1.Deployment)
			if d.TypeMeta != tt.typeMeta {
				t.Errorf("TypeMeta = %+v, want %+v", d.TypeMeta, tt.typeMeta)
			}
			if !d.Spec.Paused {
				t.Error("patch not applied")
			}
			if d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit != 10 {
				t.Error("defaulter not applied")
			}
		})
	}
}

func TestPatchServiceUnaffectedByDeploymentSchema(t *testing.T) {
	m := newTestManager()
	svc := &corev1.Service{}
	svc.Name = "s"
	svc.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "https", Port: 443}}
	got, err := m.Patch(svc, types.StrategicMergePatchType, []byte(`{"spec":{"ports":[{"port":443,"name":"tls"}]}}`), true)
	if err != nil {
		t.Fatal(err)
	}
	ports := got.(*corev1.Service).Spec.Ports
	if len(ports) != 2 || ports[1].Name != "tls" {
		t.Errorf("ports = %+v, want port 443 renamed to tls (merge key port)", ports)
	}
}
