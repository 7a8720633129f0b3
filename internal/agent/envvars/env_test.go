package envvars

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fakeGetter serves configMaps and secrets from maps keyed "namespace/name".
type fakeGetter struct {
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	err        error
	calls      int
}

func (f *fakeGetter) ConfigMap(_ context.Context, ns, name string) (*corev1.ConfigMap, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	if cm, ok := f.configMaps[ns+"/"+name]; ok {
		return cm, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func (f *fakeGetter) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	if s, ok := f.secrets[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func newGetter() *fakeGetter {
	return &fakeGetter{
		configMaps: map[string]*corev1.ConfigMap{
			"ns/cfg":   {Data: map[string]string{"B": "from-cfg-b", "A": "from-cfg-a", "1st": "digit", "bad=key": "x"}},
			"ns/other": {Data: map[string]string{"A": "from-other"}},
		},
		secrets: map[string]*corev1.Secret{
			"ns/sec": {Data: map[string][]byte{"password": []byte("hunter2"), "user": []byte("admin")}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func envPod(c corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1", Labels: map[string]string{"app": "x"}},
		Spec:       corev1.PodSpec{NodeName: "n1", ServiceAccountName: "default", Containers: []corev1.Container{c}},
	}
}

func cmRef(name, key string, optional bool) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: ptr(optional)}}
}

func secretRef(name, key string, optional bool) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: ptr(optional)}}
}

func TestResolve(t *testing.T) {
	node := NodeInfo{Name: "n1", HostIP: "192.168.0.2", Allocatable: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}}
	tests := []struct {
		name        string
		c           corev1.Container
		podIP       string
		want        []EnvVar
		wantSkipped []SkippedKeys
		wantErr     string
	}{
		{
			name: "envFrom sorted with prefix, invalid names skipped, env overrides in place",
			c: corev1.Container{
				EnvFrom: []corev1.EnvFromSource{
					{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
					{Prefix: "S_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
					{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "other"}}},
				},
				Env: []corev1.EnvVar{{Name: "B", Value: "env-b"}, {Name: "NEW", Value: "n"}},
			},
			want: []EnvVar{
				{"1st", "digit"}, {"A", "from-other"}, {"B", "env-b"},
				{"S_password", "hunter2"}, {"S_user", "admin"}, {"NEW", "n"},
			},
			wantSkipped: []SkippedKeys{{Kind: "configMap", Namespace: "ns", Name: "cfg", Keys: []string{"bad=key"}}},
		},
		{
			name: "expansion sees earlier variables only, $$ escapes",
			c: corev1.Container{Env: []corev1.EnvVar{
				{Name: "LATER_REF", Value: "$(BASE)/x"},
				{Name: "BASE", Value: "/srv"},
				{Name: "PATHX", Value: "$(BASE)/bin:$$(BASE):$(NOPE)"},
				{Name: "FROM", ValueFrom: cmRef("cfg", "A", false)},
				{Name: "NOT_EXPANDED", ValueFrom: cmRef("cfg", "A", false)},
				{Name: "USE", Value: "$(FROM)!"},
			}},
			want: []EnvVar{
				{"LATER_REF", "$(BASE)/x"}, {"BASE", "/srv"}, {"PATHX", "/srv/bin:$(BASE):$(NOPE)"},
				{"FROM", "from-cfg-a"}, {"NOT_EXPANDED", "from-cfg-a"}, {"USE", "from-cfg-a!"},
			},
		},
		{
			name: "value wins over valueFrom, empty value is set",
			c: corev1.Container{Env: []corev1.EnvVar{
				{Name: "V", Value: "literal", ValueFrom: cmRef("cfg", "A", false)},
				{Name: "EMPTY"},
			}},
			want: []EnvVar{{"V", "literal"}, {"EMPTY", ""}},
		},
		{
			name: "secret key and optional misses",
			c: corev1.Container{
				EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Optional: ptr(true)}}},
				Env: []corev1.EnvVar{
					{Name: "PW", ValueFrom: secretRef("sec", "password", false)},
					{Name: "OPT_NO_OBJ", ValueFrom: cmRef("gone", "k", true)},
					{Name: "OPT_NO_KEY", ValueFrom: cmRef("cfg", "nokey", true)},
					{Name: "OPT_NO_SECRET_KEY", ValueFrom: secretRef("sec", "nokey", true)},
					{Name: "OPT_NO_SECRET", ValueFrom: secretRef("gone", "k", true)},
				},
			},
			want: []EnvVar{{"PW", "hunter2"}},
		},
		{
			name:  "downward API fields and resources",
			podIP: "10.1.0.7",
			c: corev1.Container{Name: "main", Env: []corev1.EnvVar{
				{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
				{Name: "UID", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}}},
				{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
				{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
				{Name: "SA", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.serviceAccountName"}}},
				{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
				{Name: "IPS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIPs"}}},
				{Name: "HOST", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
				{Name: "HOSTS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIPs"}}},
				{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
				{Name: "IPREF", Value: "http://$(IP):80"},
			}},
			want: []EnvVar{
				{"POD", "p"}, {"NS", "ns"}, {"UID", "u1"}, {"APP", "x"}, {"NODE", "n1"}, {"SA", "default"},
				{"IP", "10.1.0.7"}, {"IPS", "10.1.0.7"}, {"HOST", "192.168.0.2"}, {"HOSTS", "192.168.0.2"},
				{"MEM", "2048"}, {"IPREF", "http://10.1.0.7:80"},
			},
		},
		{
			name:    "missing configMap",
			c:       corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: cmRef("gone", "k", false)}}},
			wantErr: `configmap "gone" not found`,
		},
		{
			name:    "missing configMap key",
			c:       corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: cmRef("cfg", "nokey", false)}}},
			wantErr: "couldn't find key nokey in ConfigMap ns/cfg",
		},
		{
			name:    "missing secret key",
			c:       corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: secretRef("sec", "nokey", false)}}},
			wantErr: "couldn't find key nokey in Secret ns/sec",
		},
		{
			name:    "missing envFrom secret",
			c:       corev1.Container{EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}}}},
			wantErr: `secret "gone" not found`,
		},
		{
			name:    "bad field path",
			c:       corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.bogus"}}}}},
			wantErr: "env X: field label not supported: spec.bogus",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := envPod(tt.c)
			r, err := Resolve(context.Background(), newGetter(), pod, &pod.Spec.Containers[0], node, tt.podIP, nil)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Vars, tt.want) {
				t.Errorf("vars:\n got  %v\n want %v", r.Vars, tt.want)
			}
			if !reflect.DeepEqual(r.Skipped, tt.wantSkipped) {
				t.Errorf("skipped = %+v, want %+v", r.Skipped, tt.wantSkipped)
			}
		})
	}
}

func TestResolveReadsEachObjectOnce(t *testing.T) {
	g := newGetter()
	c := corev1.Container{
		EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
		Env:     []corev1.EnvVar{{Name: "X", ValueFrom: cmRef("cfg", "A", false)}, {Name: "Y", ValueFrom: cmRef("cfg", "B", false)}},
	}
	pod := envPod(c)
	if _, err := Env(context.Background(), g, pod, &pod.Spec.Containers[0], NodeInfo{}, "", nil); err != nil {
		t.Fatal(err)
	}
	if g.calls != 1 {
		t.Errorf("getter called %d times, want 1", g.calls)
	}
}

func TestResolveWrapsGetterFailure(t *testing.T) {
	boom := errors.New("connection refused")
	g := &fakeGetter{err: boom}
	pod := envPod(corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: cmRef("cfg", "A", true)}}})
	_, err := Env(context.Background(), g, pod, &pod.Spec.Containers[0], NodeInfo{}, "", nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "ns/cfg") {
		t.Fatalf("err = %v; want wrapped getter error naming ns/cfg (optional only forgives NotFound)", err)
	}
}

func TestNodeNameFallbackAndDualStack(t *testing.T) {
	pod := envPod(corev1.Container{Env: []corev1.EnvVar{
		{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
		{Name: "IPS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIPs"}}},
	}})
	pod.Spec.NodeName = ""
	pod.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.9"}, {IP: "fd00::9"}}
	vars, err := Env(context.Background(), newGetter(), pod, &pod.Spec.Containers[0], NodeInfo{Name: "agent-node"}, "10.0.0.9", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []EnvVar{{"NODE", "agent-node"}, {"IPS", "10.0.0.9,fd00::9"}}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("got %v, want %v", vars, want)
	}
	if pod.Spec.NodeName != "" {
		t.Error("Env modified the pod")
	}
}

func TestSkippedKeysMessage(t *testing.T) {
	s := SkippedKeys{Kind: "configMap", Namespace: "ns", Name: "cfg", Keys: []string{"a=b", "c=d"}}
	want := "Keys [a=b, c=d] from the EnvFrom configMap ns/cfg were skipped since they are considered invalid environment variable names."
	if got := s.Message(); got != want {
		t.Errorf("got %q", got)
	}
}
