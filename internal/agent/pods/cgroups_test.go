package pods

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRemovePodCgroups(t *testing.T) {
	root := t.TempDir()
	mine := []string{"memory/kubepods/besteffort/podu1", "cpu/kubepods/burstable/podu1", "pids/kubepods/podu1"}
	others := []string{"memory/kubepods/besteffort/podu2", "memory/kubepods/besteffort/podu1x"}
	for _, d := range append(append([]string(nil), mine...), others...) {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	removePodCgroups(root, "u1")
	for _, d := range mine {
		if _, err := os.Stat(filepath.Join(root, d)); !os.IsNotExist(err) {
			t.Errorf("%s still there", d)
		}
	}
	for _, d := range others {
		if _, err := os.Stat(filepath.Join(root, d)); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}
