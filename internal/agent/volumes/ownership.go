package volumes

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	corev1 "k8s.io/api/core/v1"
)

// Bits fsGroup handling adds: group read/write (read only for read-only
// volumes), and on directories group search and setgid.
const (
	groupRW   os.FileMode = 0o660
	groupRO   os.FileMode = 0o440
	groupExec os.FileMode = 0o110
)

// podFSGroup returns the pod's fsGroup, or nil.
func podFSGroup(pod *corev1.Pod) *int64 {
	if pod.Spec.SecurityContext == nil {
		return nil
	}
	return pod.Spec.SecurityContext.FSGroup
}

// ownershipMask is the bits fsGroup handling ensures on an entry.
func ownershipMask(isDir, readOnly bool) os.FileMode {
	mask := groupRW
	if readOnly {
		mask = groupRO
	}
	if isDir {
		mask |= groupExec | os.ModeSetgid
	}
	return mask
}

// needsOwnershipChange reports whether dir's root lacks the group or bits
// fsGroup handling gives it (the kubelet's OnRootMismatch test).
func needsOwnershipChange(dir string, gid int64, readOnly bool) (bool, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", dir, err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || int64(st.Gid) != gid {
		return true, nil
	}
	mask := ownershipMask(info.IsDir(), readOnly)
	return info.Mode()&mask != mask, nil
}

// applyOwnership gives every entry under dir group gid and the group bits
// of ownershipMask; symlinks are re-grouped but not followed or chmodded.
func applyOwnership(dir string, gid int64, readOnly bool) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, -1, int(gid)); err != nil {
			return fmt.Errorf("chown %s: %w", path, err)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode() | ownershipMask(d.IsDir(), readOnly)
		if err := os.Chmod(path, mode&(os.ModePerm|os.ModeSetgid|os.ModeSetuid|os.ModeSticky)); err != nil {
			return fmt.Errorf("chmod %s: %w", path, err)
		}
		return nil
	})
}

// ensureOwnership applies fsGroup to dir when the pod sets one and either
// the contents were just rewritten or the root does not carry it yet.
// Failures are logged, not returned: fsGroup handling is best effort.
func (m *Manager) ensureOwnership(pod *corev1.Pod, dir string, readOnly, rewritten bool) {
	gid := podFSGroup(pod)
	if gid == nil {
		return
	}
	if !rewritten {
		needed, err := needsOwnershipChange(dir, *gid, readOnly)
		if err != nil {
			m.log.Warn("fsGroup check failed", "pod", pod.Namespace+"/"+pod.Name, "dir", dir, "err", err)
			return
		}
		if !needed {
			return
		}
	}
	if err := applyOwnership(dir, *gid, readOnly); err != nil {
		m.log.Warn("fsGroup ownership change failed", "pod", pod.Namespace+"/"+pod.Name, "dir", dir, "err", err)
	}
}
