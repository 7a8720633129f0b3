package admission

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/registry/core"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// accounts serves the given service accounts of namespace "ns".
func accounts(sas ...*corev1.ServiceAccount) func(ns, name string) (*corev1.ServiceAccount, error) {
	return func(ns, name string) (*corev1.ServiceAccount, error) {
		for _, sa := range sas {
			if ns == "ns" && sa.Name == name {
				return sa, nil
			}
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, name)
	}
}

func account(name string, automount *bool, pullSecrets ...string) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, AutomountServiceAccountToken: automount}
	for _, s := range pullSecrets {
		sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	return sa
}

func admitPod(t *testing.T, s *ServiceAccount, pod *corev1.Pod) error {
	t.Helper()
	return s.Admit(&apiserver.Attributes{Resource: core.Pods(), Verb: "create", Namespace: "ns", Name: "p", Object: pod})
}

func TestServiceAccountDefaulting(t *testing.T) {
	tests := []struct {
		name, sa, deprecated, want string
	}{
		{"unset", "", "", "default"},
		{"set", "builder", "", "builder"},
		{"deprecated field only", "", "old", "old"},
	}
	s := &ServiceAccount{Accounts: accounts(account("default", nil), account("builder", nil), account("old", nil))}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: tt.sa, DeprecatedServiceAccount: tt.deprecated}}
			if err := admitPod(t, s, pod); err != nil {
				t.Fatal(err)
			}
			if pod.Spec.ServiceAccountName != tt.want || pod.Spec.DeprecatedServiceAccount != tt.want {
				t.Fatalf("serviceAccountName=%q serviceAccount=%q, want %q", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount, tt.want)
			}
		})
	}
}

func TestServiceAccountLookup(t *testing.T) {
	tests := []struct {
		name     string
		accounts func(ns, name string) (*corev1.ServiceAccount, error)
		sa       string
		wantErr  string
	}{
		{"exists", accounts(account("builder", nil)), "builder", ""},
		{"missing", accounts(), "builder",
			`pods "p" is forbidden: error looking up service account ns/builder: serviceaccount "builder" not found`},
		{"missing default allowed", accounts(), "", ""},
		{"lookup fails", func(string, string) (*corev1.ServiceAccount, error) { return nil, errors.New("etcd down") }, "",
			`pods "p" is forbidden: error looking up service account ns/default: etcd down`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: tt.sa, Containers: []corev1.Container{{Name: "c"}}}}
			err := admitPod(t, &ServiceAccount{Accounts: tt.accounts}, pod)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr || !apierrors.IsForbidden(err) {
				t.Fatalf("error %v\nwant 403 %s", err, tt.wantErr)
			}
		})
	}
}

func TestServiceAccountTokenVolume(t *testing.T) {
	tests := []struct {
		name       string
		sa         *corev1.ServiceAccount
		podMount   *bool
		wantVolume bool
	}{
		{"default mounts", account("default", nil), nil, true},
		{"pod opts out", account("default", nil), ptr.To(false), false},
		{"account opts out", account("default", ptr.To(false)), nil, false},
		{"pod overrides account", account("default", ptr.To(false)), ptr.To(true), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{
				AutomountServiceAccountToken: tt.podMount,
				InitContainers:               []corev1.Container{{Name: "init"}},
				Containers:                   []corev1.Container{{Name: "a"}, {Name: "b"}},
			}}
			if err := admitPod(t, &ServiceAccount{Accounts: accounts(tt.sa)}, pod); err != nil {
				t.Fatal(err)
			}
			if !tt.wantVolume {
				if len(pod.Spec.Volumes) != 0 || len(pod.Spec.Containers[0].VolumeMounts) != 0 {
					t.Fatalf("token mounted: %+v", pod.Spec)
				}
				return
			}
			if len(pod.Spec.Volumes) != 1 {
				t.Fatalf("volumes %+v, want one", pod.Spec.Volumes)
			}
			v := pod.Spec.Volumes[0]
			suffix := strings.TrimPrefix(v.Name, "kube-api-access-")
			if suffix == v.Name || len(suffix) != 5 || strings.Trim(suffix, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
				t.Fatalf("volume name %q, want kube-api-access-<5 lower-case alphanumerics>", v.Name)
			}
			if !reflect.DeepEqual(v.VolumeSource, corev1.VolumeSource{Projected: wantTokenSource()}) {
				t.Fatalf("volume source %+v", v.VolumeSource)
			}
			want := []corev1.VolumeMount{{Name: v.Name, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}}
			for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
				if !reflect.DeepEqual(c.VolumeMounts, want) {
					t.Fatalf("container %s mounts %+v, want %+v", c.Name, c.VolumeMounts, want)
				}
			}
		})
	}
}

// wantTokenSource spells out the volume Kubernetes injects.
func wantTokenSource() *corev1.ProjectedVolumeSource {
	return &corev1.ProjectedVolumeSource{
		DefaultMode: ptr.To(int32(0644)),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To(int64(3607))}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}
}

func TestServiceAccountTokenExistingMounts(t *testing.T) {
	own := corev1.VolumeMount{Name: "mine", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	t.Run("container with its own mount is skipped", func(t *testing.T) {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", VolumeMounts: []corev1.VolumeMount{own}}, {Name: "b"}}}}
		if err := admitPod(t, &ServiceAccount{Accounts: accounts(account("default", nil))}, pod); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(pod.Spec.Containers[0].VolumeMounts, []corev1.VolumeMount{own}) {
			t.Fatalf("container a mounts %+v", pod.Spec.Containers[0].VolumeMounts)
		}
		if len(pod.Spec.Containers[1].VolumeMounts) != 1 || len(pod.Spec.Volumes) != 1 {
			t.Fatalf("container b not given the token: %+v", pod.Spec)
		}
	})
	t.Run("no volume when every container has its own", func(t *testing.T) {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", VolumeMounts: []corev1.VolumeMount{own}}}}}
		if err := admitPod(t, &ServiceAccount{Accounts: accounts(account("default", nil))}, pod); err != nil {
			t.Fatal(err)
		}
		if len(pod.Spec.Volumes) != 0 {
			t.Fatalf("volumes %+v, want none", pod.Spec.Volumes)
		}
	})
	t.Run("existing token volume is reused", func(t *testing.T) {
		existing := corev1.Volume{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: wantTokenSource()}}
		mounted := corev1.VolumeMount{Name: existing.Name, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
		pod := &corev1.Pod{Spec: corev1.PodSpec{
			Volumes:    []corev1.Volume{existing},
			Containers: []corev1.Container{{Name: "a", VolumeMounts: []corev1.VolumeMount{mounted}}},
		}}
		before := pod.DeepCopy()
		if err := admitPod(t, &ServiceAccount{Accounts: accounts(account("default", nil))}, pod); err != nil {
			t.Fatal(err)
		}
		before.Spec.ServiceAccountName, before.Spec.DeprecatedServiceAccount = "default", "default"
		if !reflect.DeepEqual(pod, before) {
			t.Fatalf("pod changed:\n%+v\nwant\n%+v", pod.Spec, before.Spec)
		}
	})
}

func TestServiceAccountImagePullSecrets(t *testing.T) {
	s := &ServiceAccount{Accounts: accounts(account("default", ptr.To(false), "reg-a", "reg-b"))}
	pod := &corev1.Pod{}
	if err := admitPod(t, s, pod); err != nil {
		t.Fatal(err)
	}
	want := []corev1.LocalObjectReference{{Name: "reg-a"}, {Name: "reg-b"}}
	if !reflect.DeepEqual(pod.Spec.ImagePullSecrets, want) {
		t.Fatalf("imagePullSecrets %+v, want %+v", pod.Spec.ImagePullSecrets, want)
	}
	own := &corev1.Pod{Spec: corev1.PodSpec{ImagePullSecrets: []corev1.LocalObjectReference{{Name: "mine"}}}}
	if err := admitPod(t, s, own); err != nil {
		t.Fatal(err)
	}
	if len(own.Spec.ImagePullSecrets) != 1 || own.Spec.ImagePullSecrets[0].Name != "mine" {
		t.Fatalf("pod's own pull secrets replaced: %+v", own.Spec.ImagePullSecrets)
	}
}

func TestServiceAccountOnlyOnPodCreate(t *testing.T) {
	s := &ServiceAccount{Accounts: accounts()}
	pod := &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: "missing", Containers: []corev1.Container{{Name: "a"}}}}
	a := &apiserver.Attributes{Resource: core.Pods(), Verb: "update", Namespace: "ns", Name: "p", Object: pod, Old: pod.DeepCopy()}
	if err := s.Admit(a); err != nil || len(pod.Spec.Volumes) != 0 {
		t.Fatalf("update admitted with err %v, volumes %+v", err, pod.Spec.Volumes)
	}
}

func TestServiceAccountMirrorPods(t *testing.T) {
	mirror := func(spec corev1.PodSpec) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{corev1.MirrorPodAnnotationKey: "x"}}, Spec: spec}
	}
	tests := []struct {
		name    string
		pod     *corev1.Pod
		wantErr string
	}{
		{"plain", mirror(corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}), ""},
		{"service account", mirror(corev1.PodSpec{ServiceAccountName: "x"}), `pods "p" is forbidden: a mirror pod may not reference service accounts`},
		{"secret volume", mirror(corev1.PodSpec{Volumes: []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}}}),
			`pods "p" is forbidden: a mirror pod may not reference secrets`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.pod.DeepCopy()
			err := admitPod(t, &ServiceAccount{Accounts: accounts(account("default", nil))}, tt.pod)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(tt.pod, before) {
					t.Fatalf("mirror pod changed: %+v", tt.pod.Spec)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error %v, want %s", err, tt.wantErr)
			}
		})
	}
}
