package volumes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"k8s.io/apimachinery/pkg/types"
)

// Teardown unmounts everything mounted under the pod's directory (tmpfs
// volumes, subPath binds), deepest first, and then removes the directory.
// It refuses to remove anything while a mount remains or when the
// directory tree spans another file system, so a failed unmount can never
// lead to deleting data that lives elsewhere. A pod without a directory is
// not an error.
func (m *Manager) Teardown(ctx context.Context, podUID types.UID) error {
	if err := checkPathElement("pod UID", string(podUID)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := m.podDir(podUID)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		m.forgetPod(podUID)
		return nil
	} else if err != nil {
		return fmt.Errorf("stat pod directory: %w", err)
	}
	mounts, err := readMounts()
	if err != nil {
		return err
	}
	var errs []error
	for _, point := range mountsUnder(mounts, dir) {
		if err := unmount(point); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tear down pod %s: %w", podUID, err)
	}
	if mounts, err = readMounts(); err != nil {
		return err
	}
	if left := mountsUnder(mounts, dir); len(left) > 0 {
		return fmt.Errorf("tear down pod %s: still mounted after unmount: %v", podUID, left)
	}
	if err := removeSameDevice(dir); err != nil {
		return fmt.Errorf("tear down pod %s: %w", podUID, err)
	}
	m.forgetPod(podUID)
	m.log.Debug("pod volumes torn down", "podUID", podUID)
	return nil
}

// removeSameDevice removes the tree at root, failing instead of descending
// into a directory on another device than root.
func removeSameDevice(root string) error {
	info, err := os.Lstat(root)
	if err != nil {
		return fmt.Errorf("stat %s: %w", root, err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("stat %s: no device information", root)
	}
	return removeTree(root, info, st.Dev)
}

func removeTree(path string, info fs.FileInfo, dev uint64) error {
	if info.IsDir() {
		if st, ok := info.Sys().(*syscall.Stat_t); !ok || st.Dev != dev {
			return fmt.Errorf("refusing to remove %s: it is on another file system", path)
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return fmt.Errorf("list %s: %w", path, err)
		}
		for _, e := range entries {
			child := filepath.Join(path, e.Name())
			ci, err := os.Lstat(child)
			if err != nil {
				return fmt.Errorf("stat %s: %w", child, err)
			}
			if err := removeTree(child, ci, dev); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
