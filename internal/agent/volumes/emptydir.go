package volumes

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// emptyDirMode is the mode of a disk-backed emptyDir (everyone may write,
// as the containers may run as any user).
const emptyDirMode os.FileMode = 0o777

// makeVolumeDir creates dir with mode perm exactly, whatever the umask.
func makeVolumeDir(dir string, perm os.FileMode) error {
	if err := os.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("create volume directory: %w", err)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("stat volume directory: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("volume path %s is not a directory", dir)
	}
	if info.Mode().Perm() != perm {
		if err := os.Chmod(dir, perm); err != nil {
			return fmt.Errorf("chmod volume directory: %w", err)
		}
	}
	return nil
}

// ensureTmpfs makes dir a tmpfs mount point of sizeBytes (0: the kernel's
// default size) unless it already is one.
func ensureTmpfs(dir string, sizeBytes int64) error {
	if err := makeVolumeDir(dir, emptyDirMode); err != nil {
		return err
	}
	mounts, err := readMounts()
	if err != nil {
		return err
	}
	switch fsType := mountedAt(mounts, dir); fsType {
	case "tmpfs":
		return nil
	case "":
	default:
		return fmt.Errorf("volume directory %s already has a %s mount", dir, fsType)
	}
	opts := ""
	if sizeBytes > 0 {
		opts = fmt.Sprintf("size=%d", sizeBytes)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}

// memoryVolumeSize is the tmpfs size of a memory-backed volume: the
// smallest positive value among the node's allocatable memory, the pod's
// memory limit and the volume's sizeLimit (each may be nil), or 0 when none
// is known.
func memoryVolumeSize(allocatable, podLimit, sizeLimit *resource.Quantity) int64 {
	var size int64
	for _, q := range []*resource.Quantity{allocatable, podLimit, sizeLimit} {
		if q == nil || q.Sign() <= 0 {
			continue
		}
		if v := q.Value(); size == 0 || v < size {
			size = v
		}
	}
	return size
}

// podMemoryLimit is the memory the pod as a whole may use: its pod-level
// limit if set, else — when every container has a memory limit — the larger
// of the sum over regular containers and the largest init container, plus
// overhead. nil means unlimited.
func podMemoryLimit(pod *corev1.Pod) *resource.Quantity {
	if pod.Spec.Resources != nil {
		if q, ok := pod.Spec.Resources.Limits[corev1.ResourceMemory]; ok && q.Sign() > 0 {
			return &q
		}
	}
	sum := resource.Quantity{}
	for _, c := range pod.Spec.Containers {
		q, ok := c.Resources.Limits[corev1.ResourceMemory]
		if !ok || q.Sign() <= 0 {
			return nil
		}
		sum.Add(q)
	}
	for _, c := range pod.Spec.InitContainers {
		q, ok := c.Resources.Limits[corev1.ResourceMemory]
		if !ok || q.Sign() <= 0 {
			return nil
		}
		if q.Cmp(sum) > 0 {
			sum = q.DeepCopy()
		}
	}
	if q, ok := pod.Spec.Overhead[corev1.ResourceMemory]; ok {
		sum.Add(q)
	}
	if sum.Sign() <= 0 {
		return nil
	}
	return &sum
}

// memorySize picks the tmpfs size of a memory-backed volume of pod.
func (m *Manager) memorySize(pod *corev1.Pod, sizeLimit *resource.Quantity) int64 {
	var alloc *resource.Quantity
	if q, ok := m.allocatable()[corev1.ResourceMemory]; ok {
		alloc = &q
	}
	return memoryVolumeSize(alloc, podMemoryLimit(pod), sizeLimit)
}

// setupEmptyDir creates an emptyDir volume: a plain directory, or a tmpfs
// for medium Memory.
func (m *Manager) setupEmptyDir(pod *corev1.Pod, v *corev1.Volume) error {
	dir := m.volumeDir(pod.UID, pluginEmptyDir, v.Name)
	switch medium := v.EmptyDir.Medium; {
	case medium == corev1.StorageMediumDefault:
		if err := makeVolumeDir(dir, emptyDirMode); err != nil {
			return err
		}
	case medium == corev1.StorageMediumMemory:
		if err := ensureTmpfs(dir, m.memorySize(pod, v.EmptyDir.SizeLimit)); err != nil {
			return err
		}
	default:
		return errors.New("emptyDir medium " + string(medium) + " is not supported")
	}
	m.ensureOwnership(pod, dir, false, false)
	return nil
}
