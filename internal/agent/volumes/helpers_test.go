package volumes

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// fakeGetter serves objects from maps keyed "namespace/name" (PVs by name).
type fakeGetter struct {
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	claims     map[string]*corev1.PersistentVolumeClaim
	pvs        map[string]*corev1.PersistentVolume
	token      string
	tokenErr   error
}

func newFakeGetter() *fakeGetter {
	return &fakeGetter{
		configMaps: map[string]*corev1.ConfigMap{},
		secrets:    map[string]*corev1.Secret{},
		claims:     map[string]*corev1.PersistentVolumeClaim{},
		pvs:        map[string]*corev1.PersistentVolume{},
	}
}

func notFound(resource, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
}

func (f *fakeGetter) ConfigMap(_ context.Context, ns, name string) (*corev1.ConfigMap, error) {
	if cm, ok := f.configMaps[ns+"/"+name]; ok {
		return cm.DeepCopy(), nil
	}
	return nil, notFound("configmaps", name)
}

func (f *fakeGetter) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	if s, ok := f.secrets[ns+"/"+name]; ok {
		return s.DeepCopy(), nil
	}
	return nil, notFound("secrets", name)
}

func (f *fakeGetter) PersistentVolumeClaim(_ context.Context, ns, name string) (*corev1.PersistentVolumeClaim, error) {
	if c, ok := f.claims[ns+"/"+name]; ok {
		return c.DeepCopy(), nil
	}
	return nil, notFound("persistentvolumeclaims", name)
}

func (f *fakeGetter) PersistentVolume(_ context.Context, name string) (*corev1.PersistentVolume, error) {
	if pv, ok := f.pvs[name]; ok {
		return pv.DeepCopy(), nil
	}
	return nil, notFound("persistentvolumes", name)
}

func (f *fakeGetter) ServiceAccountToken(_ context.Context, _ *corev1.Pod, _ *corev1.ServiceAccountTokenProjection) (string, error) {
	if f.tokenErr != nil {
		return "", f.tokenErr
	}
	if f.token == "" {
		return "", errors.New("not supported")
	}
	return f.token, nil
}

// newTestManager returns a Manager over a fresh pods directory.
func newTestManager(t *testing.T, g Getter) *Manager {
	t.Helper()
	m, err := New(Config{
		PodsDir:  filepath.Join(t.TempDir(), "pods"),
		Getter:   g,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		NodeName: "node-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testPod returns a pod with the given volumes and one container.
func testPod(uid string, vols ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: types.UID(uid),
			Labels: map[string]string{"app": "web", "tier": "front"}},
		Spec: corev1.PodSpec{
			NodeName:   "node-1",
			Volumes:    vols,
			Containers: []corev1.Container{{Name: "app"}},
		},
	}
}

// setupWithCleanup runs Setup and registers a Teardown that must succeed.
func setupWithCleanup(t *testing.T, m *Manager, pod *corev1.Pod) error {
	t.Helper()
	t.Cleanup(func() {
		if err := m.Teardown(context.Background(), pod.UID); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	return m.Setup(context.Background(), pod)
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantErrContaining(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
}

func ptr[T any](v T) *T { return &v }

// isMounted reports whether path is a mount point now.
func isMounted(t *testing.T, path string) string {
	t.Helper()
	mounts, err := readMounts()
	if err != nil {
		t.Fatal(err)
	}
	return mountedAt(mounts, path)
}
