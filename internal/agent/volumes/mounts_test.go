package volumes

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func emptyDirVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

func TestMountsBasics(t *testing.T) {
	g := newFakeGetter()
	g.configMaps["ns/cfg"] = &corev1.ConfigMap{Data: map[string]string{"a": "1"}}
	m := newTestManager(t, g)
	hostDir := t.TempDir()
	pod := testPod("uid-mounts", emptyDirVolume("data"), configMapVolume("conf", "cfg", false),
		corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}}})
	if err := setupWithCleanup(t, m, pod); err != nil {
		t.Fatal(err)
	}
	hostToContainer := corev1.MountPropagationHostToContainer
	none := corev1.MountPropagationNone
	c := &corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{
		{Name: "data", MountPath: "/data"},
		{Name: "conf", MountPath: "/etc/conf"},
		{Name: "host", MountPath: "relative/host", ReadOnly: true, MountPropagation: &hostToContainer},
		{Name: "data", MountPath: "/again", MountPropagation: &none},
	}}
	got, err := m.Mounts(pod, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []*runtimeapi.Mount{
		{ContainerPath: "/data", HostPath: m.volumeDir(pod.UID, pluginEmptyDir, "data")},
		{ContainerPath: "/etc/conf", HostPath: m.volumeDir(pod.UID, pluginConfigMap, "conf"), Readonly: true},
		{ContainerPath: "/relative/host", HostPath: hostDir, Readonly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER},
		{ContainerPath: "/again", HostPath: m.volumeDir(pod.UID, pluginEmptyDir, "data")},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d mounts, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].String() != want[i].String() {
			t.Errorf("mount %d:\n got  %v\n want %v", i, got[i], want[i])
		}
	}

	bidirectional := corev1.MountPropagationBidirectional
	bogus := corev1.MountPropagationMode("Sideways")
	enabled := corev1.RecursiveReadOnlyEnabled
	errTests := []struct {
		name string
		vm   corev1.VolumeMount
		priv bool
		want string
	}{
		{"unknown volume", corev1.VolumeMount{Name: "nope", MountPath: "/x"}, false, `cannot find volume "nope" to mount into container "app"`},
		{"bidirectional needs privilege", corev1.VolumeMount{Name: "data", MountPath: "/x", MountPropagation: &bidirectional}, false, "Bidirectional mount propagation is available only to privileged containers"},
		{"invalid propagation", corev1.VolumeMount{Name: "data", MountPath: "/x", MountPropagation: &bogus}, false, `invalid MountPropagation mode: "Sideways"`},
		{"recursive read-only", corev1.VolumeMount{Name: "data", MountPath: "/x", ReadOnly: true, RecursiveReadOnly: &enabled}, false, "recursive read-only mounts are not supported"},
		{"absolute subPath", corev1.VolumeMount{Name: "data", MountPath: "/x", SubPath: "/etc"}, false, "error SubPath `/etc` must not be an absolute path"},
		{"subPath backsteps", corev1.VolumeMount{Name: "data", MountPath: "/x", SubPath: "a/../../etc"}, false, "unable to provision SubPath `a/../../etc`: must not contain '..'"},
		{"subPathExpr backsteps", corev1.VolumeMount{Name: "data", MountPath: "/x", SubPathExpr: "$(UP)/etc"}, false, "unable to provision SubPath `../etc`: must not contain '..'"},
		{"subPathExpr missing vars", corev1.VolumeMount{Name: "data", MountPath: "/x", SubPathExpr: "$(B)/$(A)/$(EMPTY)"}, false, "missing value for A, B, EMPTY"},
	}
	env := map[string]string{"UP": "..", "EMPTY": ""}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			c := &corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{tt.vm},
				SecurityContext: &corev1.SecurityContext{Privileged: ptr(tt.priv)}}
			_, err := m.Mounts(pod, c, env)
			wantErrContaining(t, err, tt.want)
		})
	}
	priv := &corev1.Container{Name: "app", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)},
		VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/x", MountPropagation: &bidirectional}}}
	if got, err := m.Mounts(pod, priv, nil); err != nil || got[0].Propagation != runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL {
		t.Errorf("privileged bidirectional: %v %v", got, err)
	}
}

func TestMountsBeforeSetup(t *testing.T) {
	m := newTestManager(t, newFakeGetter())
	pod := testPod("uid-nosetup", emptyDirVolume("data"))
	c := &corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/d"}}}
	_, err := m.Mounts(pod, c, nil)
	wantErrContaining(t, err, "volume has not been set up")
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	ia, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	ib, err := os.Stat(b)
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := ia.Sys().(*syscall.Stat_t), ib.Sys().(*syscall.Stat_t)
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

func TestMountsSubPath(t *testing.T) {
	requireRoot(t)
	g := newFakeGetter()
	g.configMaps["ns/cfg"] = &corev1.ConfigMap{Data: map[string]string{"app.conf": "setting=1"}}
	m := newTestManager(t, g)
	pod := testPod("uid-subpath", emptyDirVolume("data"), configMapVolume("conf", "cfg", false))
	if err := setupWithCleanup(t, m, pod); err != nil {
		t.Fatal(err)
	}
	vol := m.volumeDir(pod.UID, pluginEmptyDir, "data")
	c := &corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{
		{Name: "data", MountPath: "/logs", SubPathExpr: "logs/$(POD_NAME)"},
		{Name: "data", MountPath: "/cache", SubPath: "cache"},
		{Name: "conf", MountPath: "/etc/app.conf", SubPath: "app.conf"},
	}}
	env := map[string]string{"POD_NAME": "web-0"}
	mounts, err := m.Mounts(pod, c, env)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"logs/web-0", "cache"} {
		src := filepath.Join(vol, want)
		info, err := os.Stat(src)
		if err != nil || !info.IsDir() {
			t.Fatalf("subPath %s not created as a directory: %v", want, err)
		}
		if info.Mode().Perm() != 0o777 {
			t.Errorf("subPath %s mode %v, want the volume's 0777", want, info.Mode().Perm())
		}
		if mounts[i].HostPath != m.subpathTarget(pod.UID, "data", "app", i) || !sameFile(t, mounts[i].HostPath, src) {
			t.Errorf("mount %d host path %s is not a bind of %s", i, mounts[i].HostPath, src)
		}
	}
	if got := readFile(t, mounts[2].HostPath); got != "setting=1" || !mounts[2].Readonly {
		t.Errorf("file subPath: %q readonly=%v", got, mounts[2].Readonly)
	}
	// Writes through the bind land in the volume.
	if err := os.WriteFile(filepath.Join(mounts[1].HostPath, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(vol, "cache/f")); got != "x" {
		t.Errorf("write through bind: %q", got)
	}
	// Mounts again (container restart) reuses the binds instead of stacking.
	if _, err := m.Mounts(pod, c, env); err != nil {
		t.Fatal(err)
	}
	all, _ := readMounts()
	if n := len(mountsUnder(all, filepath.Join(m.podDir(pod.UID), "volume-subpaths"))); n != 3 {
		t.Errorf("%d subpath mounts after a second Mounts, want 3", n)
	}

	if err := m.Teardown(context.Background(), pod.UID); err != nil {
		t.Fatal(err)
	}
	all, _ = readMounts()
	if left := mountsUnder(all, m.podDir(pod.UID)); len(left) != 0 {
		t.Errorf("mounts left after teardown: %v", left)
	}
}

// A container can plant symlinks in a writable volume; a subPath must never
// follow one out of the volume, neither to mount nor to create directories.
func TestMountsSubPathSymlinkEscape(t *testing.T) {
	requireRoot(t)
	m := newTestManager(t, newFakeGetter())
	pod := testPod("uid-escape", emptyDirVolume("data"))
	if err := setupWithCleanup(t, m, pod); err != nil {
		t.Fatal(err)
	}
	vol := m.volumeDir(pod.UID, pluginEmptyDir, "data")
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(vol, "evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "missing"), filepath.Join(vol, "dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(vol, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(vol, "inside")); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"evil", "evil/newdir", "dangling", "dangling/x"} {
		c := &corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/x", SubPath: sub}}}
		_, err := m.Mounts(pod, c, nil)
		wantErrContaining(t, err, `failed to prepare subPath for volumeMount "data" of container "app"`)
		if strings.Contains(err.Error(), outside) {
			t.Errorf("error leaks host path: %v", err)
		}
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 0 {
		t.Errorf("subPath handling created %d entries outside the volume", len(entries))
	}
	// A symlink that stays inside the volume is fine.
	c := &corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/x", SubPath: "inside/sub"}}}
	mounts, err := m.Mounts(pod, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sameFile(t, mounts[0].HostPath, filepath.Join(vol, "real/sub")) {
		t.Error("inside symlink not resolved to its target")
	}
}
