package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func dataTarget(t *testing.T, dir string) string {
	t.Helper()
	target, err := os.Readlink(filepath.Join(dir, dataLink))
	if err != nil {
		t.Fatal(err)
	}
	return target
}

func TestAtomicWriteLayoutAndUpdates(t *testing.T) {
	dir := t.TempDir()
	written, err := atomicWrite(dir, payload{
		"a":     {data: []byte("1"), mode: 0o644},
		"sub/b": {data: []byte("2"), mode: 0o600},
		"open":  {data: []byte("3"), mode: 0o666},
	})
	if err != nil || !written {
		t.Fatalf("first write: written=%v err=%v", written, err)
	}
	first := dataTarget(t, dir)
	if !isVersionDir(first) {
		t.Fatalf("..data -> %q, want a version directory", first)
	}
	for name, want := range map[string]string{"a": "..data/a", "sub": "..data/sub", "open": "..data/open"} {
		if got, err := os.Readlink(filepath.Join(dir, name)); err != nil || got != want {
			t.Errorf("link %s -> %q (%v), want %q", name, got, err, want)
		}
	}
	if got := readFile(t, filepath.Join(dir, "sub/b")); got != "2" {
		t.Errorf("sub/b = %q", got)
	}
	for rel, want := range map[string]os.FileMode{first: 0o755, first + "/sub/b": 0o600, first + "/open": 0o666} {
		info, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want {
			t.Errorf("mode of %s = %v, want %v (umask must not apply)", rel, info.Mode().Perm(), want)
		}
	}

	// Same content: nothing is written.
	written, err = atomicWrite(dir, payload{
		"a": {data: []byte("1"), mode: 0o644}, "sub/b": {data: []byte("2"), mode: 0o600}, "open": {data: []byte("3"), mode: 0o666},
	})
	if err != nil || written || dataTarget(t, dir) != first {
		t.Fatalf("unchanged write: written=%v err=%v target=%s", written, err, dataTarget(t, dir))
	}

	// Changed content and a removed file: a new version replaces the old.
	written, err = atomicWrite(dir, payload{"a": {data: []byte("new"), mode: 0o644}, "sub/b": {data: []byte("2"), mode: 0o600}})
	if err != nil || !written {
		t.Fatalf("update: written=%v err=%v", written, err)
	}
	second := dataTarget(t, dir)
	if second == first {
		t.Fatal("..data did not move to a new version")
	}
	if got := readFile(t, filepath.Join(dir, "a")); got != "new" {
		t.Errorf("a = %q after update", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "open")); !os.IsNotExist(err) {
		t.Errorf("removed file still visible: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !os.IsNotExist(err) {
		t.Errorf("old version directory kept: %v", err)
	}

	// Removing a file alone also publishes a new version.
	written, err = atomicWrite(dir, payload{"sub/b": {data: []byte("2"), mode: 0o600}})
	if err != nil || !written {
		t.Fatalf("removal: written=%v err=%v", written, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Errorf("a still visible: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 3 { // ..<version>, ..data, sub
		t.Errorf("directory holds %v", names)
	}
}

func TestAtomicWriteEmptyPayloadAndLeftovers(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "..2020_01_01_00_00_00.123")
	if err := os.Mkdir(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, newDataLink)); err != nil {
		t.Fatal(err)
	}
	written, err := atomicWrite(dir, payload{})
	if err != nil || !written {
		t.Fatalf("written=%v err=%v", written, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("interrupted version left behind: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, newDataLink)); !os.IsNotExist(err) {
		t.Errorf("stale %s left behind: %v", newDataLink, err)
	}
	if _, err := os.Stat(filepath.Join(dir, dataLink)); err != nil {
		t.Errorf("empty payload must still publish ..data: %v", err)
	}
}

func TestAtomicWriteRejectsBadPaths(t *testing.T) {
	tests := []struct{ path, want string }{
		{"", "must not be empty"},
		{"/etc/passwd", "must be relative path"},
		{"../x", "must not contain '..'"},
		{"a/../../b", "must not contain '..'"},
		{"..data", "must not start with '..'"},
		{"..2020_01_01", "must not start with '..'"},
		{strings.Repeat("x", 256), "filenames must be less than or equal to 255"},
		{strings.Repeat("x/", 2049), "must be less than or equal to 4096"},
		{"./", "must name a file"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		_, err := atomicWrite(dir, payload{tt.path: {data: []byte("x"), mode: 0o644}})
		wantErrContaining(t, err, tt.want)
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%q: rejected payload left %d entries", tt.path, len(entries))
		}
	}
	for _, ok := range []string{"a/..b", "x..", "a/b/c"} {
		if err := validatePayloadPath(ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
}

// An update must be visible through an existing bind mount of the volume
// directory, which is how running containers see it.
func TestAtomicWriteVisibleThroughBindMount(t *testing.T) {
	requireRoot(t)
	dir, view := t.TempDir(), t.TempDir()
	if _, err := atomicWrite(dir, payload{"k": {data: []byte("v1"), mode: 0o644}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(dir, view, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unmount(view); err != nil {
			t.Error(err)
		}
	})
	if got := readFile(t, filepath.Join(view, "k")); got != "v1" {
		t.Fatalf("through bind: %q", got)
	}
	if _, err := atomicWrite(dir, payload{"k": {data: []byte("v2"), mode: 0o644}, "new": {data: []byte("n"), mode: 0o644}}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(view, "k")); got != "v2" {
		t.Errorf("update not visible through bind mount: %q", got)
	}
	if got := readFile(t, filepath.Join(view, "new")); got != "n" {
		t.Errorf("new file not visible through bind mount: %q", got)
	}
}
