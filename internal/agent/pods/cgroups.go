package pods

import (
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/types"
)

// cgroupRoot is where the cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// removePodCgroups removes the pod's cgroup directories (runc creates them
// under the sandbox's cgroup parent and removes only the containers'), in
// every hierarchy, whatever QoS class the pod had. Directories that are
// still in use stay; the kernel refuses to remove them.
func removePodCgroups(root string, uid types.UID) {
	pod := "pod" + string(uid)
	var dirs []string
	for _, pattern := range []string{
		filepath.Join(root, "*", "kubepods", pod),
		filepath.Join(root, "*", "kubepods", "*", pod),
		filepath.Join(root, "kubepods", pod),
		filepath.Join(root, "kubepods", "*", pod),
	} {
		m, _ := filepath.Glob(pattern)
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		_ = os.Remove(d)
	}
}
