package volumes

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/types"
)

func TestPodDirsAndTeardown(t *testing.T) {
	m := newTestManager(t, newFakeGetter())
	for _, uid := range []string{"b", "a"} {
		if err := setupWithCleanup(t, m, testPod(uid, emptyDirVolume("d"))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(m.podsDir, "stray-file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	uids, err := m.PodDirs()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(uids)
	if !slices.Equal(uids, []types.UID{"a", "b"}) {
		t.Errorf("PodDirs = %v", uids)
	}
	if err := m.Teardown(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := m.Teardown(context.Background(), "a"); err != nil {
		t.Errorf("second teardown: %v", err)
	}
	if uids, _ := m.PodDirs(); !slices.Equal(uids, []types.UID{"b"}) {
		t.Errorf("PodDirs after teardown = %v", uids)
	}
	for _, bad := range []types.UID{"", "..", "../b", "a/b"} {
		if err := m.Teardown(context.Background(), bad); err == nil {
			t.Errorf("Teardown(%q) accepted", bad)
		}
	}
	if err := m.Setup(context.Background(), testPod("../escape")); err == nil {
		t.Error("Setup accepted a UID with a slash")
	}
}

// removeSameDevice must not descend into another file system: that is what
// a mount that failed to unmount looks like.
func TestRemoveSameDeviceStopsAtMounts(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	inner := filepath.Join(root, "pod", "volumes", "mnt")
	if err := os.MkdirAll(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", inner, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unmount(inner); err != nil {
			t.Error(err)
		}
	})
	precious := filepath.Join(inner, "precious")
	if err := os.WriteFile(precious, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := removeSameDevice(filepath.Join(root, "pod"))
	wantErrContaining(t, err, "is on another file system")
	if got := readFile(t, precious); got != "keep" {
		t.Errorf("data on the other file system was touched")
	}
}

func TestParseMountInfo(t *testing.T) {
	doc := strings.Join([]string{
		`22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw`,
		`42 22 0:39 / /var/lib/pods/with\040space rw,relatime - tmpfs tmpfs rw,size=1024k`,
		`43 22 0:40 / /var/lib/pods/back\134slash rw - tmpfs tmpfs rw`,
		`44 22 0:41 / /var/lib/pods/x rw shared:2 master:1 - overlay overlay rw`,
		``,
	}, "\n")
	entries, err := parseMountInfo(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []mountEntry{{"/", "ext4"}, {"/var/lib/pods/with space", "tmpfs"}, {`/var/lib/pods/back\slash`, "tmpfs"}, {"/var/lib/pods/x", "overlay"}}
	if !slices.Equal(entries, want) {
		t.Errorf("got %v, want %v", entries, want)
	}
	if got := mountsUnder(entries, "/var/lib/pods"); !slices.Equal(got, []string{`/var/lib/pods/with space`, `/var/lib/pods/back\slash`, "/var/lib/pods/x"}) {
		t.Errorf("mountsUnder = %v", got)
	}
	if got := mountsUnder(entries, "/var/lib/pod"); len(got) != 0 {
		t.Errorf("prefix match without a slash boundary: %v", got)
	}
	if _, err := parseMountInfo(strings.NewReader("garbage\n")); err == nil {
		t.Error("malformed line accepted")
	}
}
