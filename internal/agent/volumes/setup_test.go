package volumes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func configMapVolume(name, cm string, optional bool, items ...corev1.KeyToPath) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: cm}, Items: items, Optional: ptr(optional)}}}
}

func TestSetupConfigMapErrors(t *testing.T) {
	g := newFakeGetter()
	g.configMaps["ns/cfg"] = &corev1.ConfigMap{Data: map[string]string{"a": "1"}}
	tests := []struct {
		name string
		vol  corev1.Volume
		want string
	}{
		{"missing configMap", configMapVolume("conf", "x", false),
			`MountVolume.SetUp failed for volume "conf" : configmap "x" not found`},
		{"missing key", configMapVolume("conf", "cfg", false, corev1.KeyToPath{Key: "y", Path: "y"}),
			`MountVolume.SetUp failed for volume "conf" : configmap references non-existent config key: y`},
		{"missing secret", corev1.Volume{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "x"}}},
			`MountVolume.SetUp failed for volume "s" : secret "x" not found`},
		{"unsupported type", corev1.Volume{Name: "n", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s", Path: "/"}}},
			`MountVolume.SetUp failed for volume "n" : unsupported volume type "nfs"`},
		{"bad path in items", configMapVolume("conf", "cfg", false, corev1.KeyToPath{Key: "a", Path: "../a"}),
			"invalid path: must not contain '..'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestManager(t, g)
			pod := testPod("uid-err", tt.vol)
			err := setupWithCleanup(t, m, pod)
			wantErrContaining(t, err, tt.want)
		})
	}
}

func TestSetupReportsEveryFailingVolume(t *testing.T) {
	m := newTestManager(t, newFakeGetter())
	pod := testPod("uid-multi", configMapVolume("one", "x", false), configMapVolume("two", "y", false),
		corev1.Volume{Name: "ok", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	err := setupWithCleanup(t, m, pod)
	wantErrContaining(t, err, `volume "one" : configmap "x" not found`)
	wantErrContaining(t, err, `volume "two" : configmap "y" not found`)
	if _, err := os.Stat(m.volumeDir(pod.UID, pluginEmptyDir, "ok")); err != nil {
		t.Errorf("good volume not set up: %v", err)
	}
}

func TestSetupConfigMapContentsAndRefresh(t *testing.T) {
	g := newFakeGetter()
	g.configMaps["ns/cfg"] = &corev1.ConfigMap{
		Data:       map[string]string{"a": "1", "b": "2"},
		BinaryData: map[string][]byte{"bin": {0, 1, 2}},
	}
	m := newTestManager(t, g)
	all := configMapVolume("all", "cfg", false)
	all.ConfigMap.DefaultMode = ptr(int32(0o400))
	items := configMapVolume("items", "cfg", false,
		corev1.KeyToPath{Key: "a", Path: "dir/renamed", Mode: ptr(int32(0o600))},
		corev1.KeyToPath{Key: "bin", Path: "bin"})
	optional := configMapVolume("opt", "absent", true)
	optionalKey := configMapVolume("optkey", "cfg", true, corev1.KeyToPath{Key: "nokey", Path: "nokey"}, corev1.KeyToPath{Key: "b", Path: "b"})
	pod := testPod("uid-cm", all, items, optional, optionalKey)
	if err := setupWithCleanup(t, m, pod); err != nil {
		t.Fatal(err)
	}
	allDir := m.volumeDir(pod.UID, pluginConfigMap, "all")
	itemsDir := m.volumeDir(pod.UID, pluginConfigMap, "items")
	checks := map[string]struct {
		content string
		mode    os.FileMode
	}{
		filepath.Join(allDir, "a"):                                          {"1", 0o400},
		filepath.Join(allDir, "bin"):                                        {"\x00\x01\x02", 0o400},
		filepath.Join(itemsDir, "dir/renamed"):                              {"1", 0o600},
		filepath.Join(itemsDir, "bin"):                                      {"\x00\x01\x02", 0o644},
		filepath.Join(m.volumeDir(pod.UID, pluginConfigMap, "optkey"), "b"): {"2", 0o644},
	}
	for path, want := range checks {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, path); got != want.content || info.Mode().Perm() != want.mode {
			t.Errorf("%s = %q %v, want %q %v", path, got, info.Mode().Perm(), want.content, want.mode)
		}
	}
	if _, err := os.Lstat(filepath.Join(itemsDir, "a")); !os.IsNotExist(err) {
		t.Errorf("unlisted key projected: %v", err)
	}
	optEntries, err := os.ReadDir(m.volumeDir(pod.UID, pluginConfigMap, "opt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range optEntries {
		if e.Name()[0] != '.' {
			t.Errorf("optional missing configMap projected %s", e.Name())
		}
	}

	// A second Setup with unchanged data keeps the version; a change
	// publishes a new one in place.
	before := dataTarget(t, allDir)
	if err := m.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if dataTarget(t, allDir) != before {
		t.Error("unchanged configMap rewritten")
	}
	g.configMaps["ns/cfg"].Data["a"] = "changed"
	delete(g.configMaps["ns/cfg"].Data, "b")
	if err := m.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if dataTarget(t, allDir) == before {
		t.Error("changed configMap not republished")
	}
	if got := readFile(t, filepath.Join(allDir, "a")); got != "changed" {
		t.Errorf("a = %q after refresh", got)
	}
	if _, err := os.Lstat(filepath.Join(allDir, "b")); !os.IsNotExist(err) {
		t.Errorf("deleted key still visible: %v", err)
	}
}

func TestSetupSecretIsTmpfs(t *testing.T) {
	requireRoot(t)
	g := newFakeGetter()
	g.secrets["ns/creds"] = &corev1.Secret{Data: map[string][]byte{"password": []byte("hunter2")}}
	m := newTestManager(t, g)
	pod := testPod("uid-secret", corev1.Volume{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "creds"}}})
	if err := setupWithCleanup(t, m, pod); err != nil {
		t.Fatal(err)
	}
	dir := m.volumeDir(pod.UID, pluginSecret, "creds")
	if fs := isMounted(t, dir); fs != "tmpfs" {
		t.Fatalf("secret volume mounted as %q, want tmpfs", fs)
	}
	info, err := os.Stat(filepath.Join(dir, "password"))
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "password")); got != "hunter2" || info.Mode().Perm() != 0o644 {
		t.Errorf("password = %q %v", got, info.Mode().Perm())
	}
	// Setup again must not stack a second tmpfs.
	if err := m.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	mounts, _ := readMounts()
	if n := len(mountsUnder(mounts, dir)); n != 1 {
		t.Errorf("%d mounts on the secret volume after a second Setup", n)
	}
	if err := m.Teardown(context.Background(), pod.UID); err != nil {
		t.Fatal(err)
	}
	if fs := isMounted(t, dir); fs != "" {
		t.Errorf("still mounted after teardown: %s", fs)
	}
	if _, err := os.Stat(m.podDir(pod.UID)); !os.IsNotExist(err) {
		t.Errorf("pod directory left: %v", err)
	}
}

func TestSetupEmptyDir(t *testing.T) {
	m := newTestManager(t, newFakeGetter())
	pod := testPod("uid-empty", corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "huge", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumHugePages}}})
	err := setupWithCleanup(t, m, pod)
	wantErrContaining(t, err, `volume "huge" : emptyDir medium HugePages is not supported`)
	dir := m.volumeDir(pod.UID, pluginEmptyDir, "scratch")
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir mode %v, want 0777", info.Mode().Perm())
	}
	if err := os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = m.Setup(context.Background(), pod)
	if got := readFile(t, filepath.Join(dir, "keep")); got != "x" {
		t.Error("second Setup lost emptyDir contents")
	}
}

func TestSetupMemoryEmptyDir(t *testing.T) {
	requireRoot(t)
	m := newTestManager(t, newFakeGetter())
	limit := resource.MustParse("1Mi")
	pod := testPod("uid-mem", corev1.Volume{Name: "shm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
		Medium: corev1.StorageMediumMemory, SizeLimit: &limit}}})
	if err := setupWithCleanup(t, m, pod); err != nil {
		t.Fatal(err)
	}
	dir := m.volumeDir(pod.UID, pluginEmptyDir, "shm")
	if fs := isMounted(t, dir); fs != "tmpfs" {
		t.Fatalf("mounted %q, want tmpfs", fs)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if size := int64(st.Blocks) * st.Bsize; size != 1<<20 {
		t.Errorf("tmpfs size %d, want %d", size, 1<<20)
	}
	if err := m.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if err := m.Teardown(context.Background(), pod.UID); err != nil {
		t.Fatal(err)
	}
	if fs := isMounted(t, dir); fs != "" {
		t.Errorf("tmpfs left mounted")
	}
}

func TestSetupDownwardAPI(t *testing.T) {
	m, err := New(Config{
		PodsDir: filepath.Join(t.TempDir(), "pods"), Getter: newFakeGetter(),
		NodeAllocatable: func() corev1.ResourceList { return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")} },
	})
	if err != nil {
		t.Fatal(err)
	}
	pod := testPod("uid-dapi", corev1.Volume{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
		DefaultMode: ptr(int32(0o640)),
		Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}, Mode: ptr(int32(0o600))},
			{Path: "cpu_limit", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.cpu", Divisor: resource.MustParse("1m")}},
		},
	}}})
	if err := setupWithCleanup(t, m, pod); err != nil {
		t.Fatal(err)
	}
	dir := m.volumeDir(pod.UID, pluginDownwardAPI, "info")
	for file, want := range map[string]string{"labels": "app=\"web\"\ntier=\"front\"", "name": "web", "cpu_limit": "3000"} {
		if got := readFile(t, filepath.Join(dir, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	info, _ := os.Stat(filepath.Join(dir, "labels"))
	if info.Mode().Perm() != 0o640 {
		t.Errorf("labels mode %v", info.Mode().Perm())
	}
	// Label changes reach the file on the next Setup.
	pod.Labels["tier"] = "back"
	if err := m.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "labels")); got != "app=\"web\"\ntier=\"back\"" {
		t.Errorf("labels after update = %q", got)
	}

	bad := testPod("uid-dapi-bad", corev1.Volume{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
		Items: []corev1.DownwardAPIVolumeFile{
			{Path: "x", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.bogus"}},
			{Path: "y", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "nope", Resource: "limits.cpu"}},
		},
	}}})
	err = setupWithCleanup(t, m, bad)
	wantErrContaining(t, err, "x: field label not supported: spec.bogus")
	wantErrContaining(t, err, "y: container nope not found")
}

func TestSetupProjected(t *testing.T) {
	requireRoot(t)
	g := newFakeGetter()
	g.configMaps["ns/ca"] = &corev1.ConfigMap{Data: map[string]string{"ca.crt": "CERT"}}
	g.secrets["ns/s"] = &corev1.Secret{Data: map[string][]byte{"k": []byte("secret")}}
	g.token = "TOKEN"
	m := newTestManager(t, g)
	vol := corev1.Volume{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr(int32(0o644)),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr(int64(3607))}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "ca"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: ptr(true)}},
		},
	}}}
	pod := testPod("uid-proj", vol)
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: ptr(int64(2345))}
	if err := setupWithCleanup(t, m, pod); err != nil {
		t.Fatal(err)
	}
	dir := m.volumeDir(pod.UID, pluginProjected, "kube-api-access")
	if fs := isMounted(t, dir); fs != "tmpfs" {
		t.Errorf("projected volume on %q, want tmpfs", fs)
	}
	for file, want := range map[string]string{"token": "TOKEN", "ca.crt": "CERT", "k": "secret", "namespace": "ns"} {
		if got := readFile(t, filepath.Join(dir, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	// With fsGroup the token is 0600 plus group read, group-owned.
	info, err := os.Stat(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 || info.Sys().(*syscall.Stat_t).Gid != 2345 {
		t.Errorf("token mode %v gid %d, want 0640 gid 2345", info.Mode().Perm(), info.Sys().(*syscall.Stat_t).Gid)
	}

	g.tokenErr = errors.New("token request refused")
	failing := testPod("uid-proj-fail", vol, corev1.Volume{Name: "ctb", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "b"}}}}}})
	err = setupWithCleanup(t, m, failing)
	wantErrContaining(t, err, "service account token for token: token request refused")
	wantErrContaining(t, err, `volume "ctb" : clusterTrustBundle projections are not supported`)
}

func TestSetupFSGroup(t *testing.T) {
	requireRoot(t)
	g := newFakeGetter()
	g.configMaps["ns/cfg"] = &corev1.ConfigMap{Data: map[string]string{"a": "1"}}
	m := newTestManager(t, g)
	cm := configMapVolume("conf", "cfg", false)
	cm.ConfigMap.DefaultMode = ptr(int32(0o400))
	pod := testPod("uid-fsgroup", corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, cm)
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: ptr(int64(4321))}
	if err := setupWithCleanup(t, m, pod); err != nil {
		t.Fatal(err)
	}
	check := func(path string, wantMode os.FileMode) {
		t.Helper()
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		gid := info.Sys().(*syscall.Stat_t).Gid
		if gid != 4321 || info.Mode()&(os.ModePerm|os.ModeSetgid) != wantMode {
			t.Errorf("%s: gid %d mode %v, want gid 4321 mode %v", path, gid, info.Mode(), wantMode)
		}
	}
	check(m.volumeDir(pod.UID, pluginEmptyDir, "data"), 0o777|os.ModeSetgid)
	check(filepath.Join(m.volumeDir(pod.UID, pluginConfigMap, "conf"), "a"), 0o440)
}
