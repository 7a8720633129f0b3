package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/types"
)

// subPathMount identifies one subPath volumeMount of one container.
type subPathMount struct {
	volume    string
	container string
	index     int
}

// prepareSubPath makes volumePath/subPath usable as a mount source without
// letting a symlink planted by a container lead outside the volume: missing
// directories are created one component at a time without following
// symlinks, the final path (symlinks inside the volume resolved) must lie
// inside the volume, and it is opened component by component without
// following symlinks and bind-mounted through that open file onto a private
// target under the pod directory, which is returned. An existing bind of the
// same file is reused.
func (m *Manager) prepareSubPath(uid types.UID, sm subPathMount, volumePath, subPath string) (string, error) {
	if err := checkPathElement("container name", sm.container); err != nil {
		return "", err
	}
	base, err := filepath.EvalSymlinks(volumePath)
	if err != nil {
		return "", fmt.Errorf("resolve volume path: %w", err)
	}
	if err := makeSubPathDirs(base, subPath); err != nil {
		return "", err
	}
	resolved, err := filepath.EvalSymlinks(filepath.Join(base, subPath))
	if err != nil {
		return "", fmt.Errorf("resolve subpath: %w", err)
	}
	rel, ok := relativeWithin(base, resolved)
	if !ok {
		return "", fmt.Errorf("subpath %q not within volume path %q", resolved, base)
	}
	fd, err := openNoFollow(base, rel, unix.O_PATH)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	target := m.subpathTarget(uid, sm.volume, sm.container, sm.index)
	return target, bindFD(fd, target)
}

// relativeWithin returns path relative to base when path is base or lies
// below it.
func relativeWithin(base, path string) (string, bool) {
	rel, err := filepath.Rel(base, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

// makeSubPathDirs creates the missing directories of base/subPath with the
// mode of base. The existing part (symlinks resolved) must lie inside base;
// new directories are made and entered relative to open directories, never
// following symlinks, so a concurrent swap cannot redirect them.
func makeSubPathDirs(base, subPath string) error {
	parts := strings.Split(filepath.Clean(subPath), "/")
	existing := base
	i := 0
	for ; i < len(parts); i++ {
		next := filepath.Join(existing, parts[i])
		if _, err := os.Stat(next); errors.Is(err, fs.ErrNotExist) {
			break
		} else if err != nil {
			return fmt.Errorf("stat %s: %w", next, err)
		}
		existing = next
	}
	missing := parts[i:]
	if len(missing) == 0 {
		return nil
	}
	info, err := os.Stat(base)
	if err != nil {
		return fmt.Errorf("stat volume: %w", err)
	}
	perm := unixMode(info.Mode())
	resolved, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", existing, err)
	}
	rel, ok := relativeWithin(base, resolved)
	if !ok {
		return fmt.Errorf("subpath %q not within volume path %q", resolved, base)
	}
	fd, err := openNoFollow(base, rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer func() { unix.Close(fd) }()
	for _, name := range missing {
		if err := unix.Mkdirat(fd, name, perm); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create subpath directory %s: %w", name, err)
		}
		child, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open subpath directory %s: %w", name, err)
		}
		unix.Close(fd)
		fd = child
		// mkdirat applied the umask; set the mode exactly.
		if err := unix.Fchmod(fd, perm); err != nil {
			return fmt.Errorf("chmod subpath directory %s: %w", name, err)
		}
	}
	return nil
}

// unixMode converts the permission and setgid bits of a Go file mode to
// the kernel's encoding.
func unixMode(m os.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&os.ModeSetgid != 0 {
		mode |= unix.S_ISGID
	}
	return mode
}

// openNoFollow opens base/rel (rel free of symlinks and "..") one component
// at a time, refusing symlinks, and returns the last descriptor opened with
// flags (O_NOFOLLOW and O_CLOEXEC added).
func openNoFollow(base, rel string, flags int) (int, error) {
	fd, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", base, err)
	}
	if rel == "." {
		unix.Close(fd)
		fd, err = unix.Open(base, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("open %s: %w", base, err)
		}
		return fd, nil
	}
	parts := strings.Split(rel, "/")
	current := base
	for i, name := range parts {
		if name == ".." || name == "." || name == "" {
			unix.Close(fd)
			return -1, fmt.Errorf("invalid path element %q in %s", name, rel)
		}
		current = filepath.Join(current, name)
		f := unix.O_PATH
		if i == len(parts)-1 {
			f = flags
		}
		child, err := unix.Openat(fd, name, f|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			return -1, fmt.Errorf("open %s: %w", current, err)
		}
		fd = child
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("stat %s: %w", current, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			unix.Close(fd)
			return -1, fmt.Errorf("%s is a symlink", current)
		}
	}
	return fd, nil
}

// bindFD bind-mounts the file open as fd onto target, creating target (a
// directory or an empty file, like the source) and its parents. A target
// that is already a bind of the same file is kept; another mount there is
// replaced.
func bindFD(fd int, target string) error {
	var src unix.Stat_t
	if err := unix.Fstat(fd, &src); err != nil {
		return fmt.Errorf("stat subpath: %w", err)
	}
	isDir := src.Mode&unix.S_IFMT == unix.S_IFDIR
	mounts, err := readMounts()
	if err != nil {
		return err
	}
	if mountedAt(mounts, target) != "" {
		var cur unix.Stat_t
		if err := unix.Stat(target, &cur); err == nil && cur.Dev == src.Dev && cur.Ino == src.Ino {
			return nil
		}
		if err := unmount(target); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return fmt.Errorf("create subpath target directory: %w", err)
	}
	if err := makeMountTarget(target, isDir); err != nil {
		return err
	}
	source := fmt.Sprintf("/proc/self/fd/%d", fd)
	if err := unix.Mount(source, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind subpath onto %s: %w", target, err)
	}
	return nil
}

// makeMountTarget makes target a directory or an empty file, replacing an
// entry of the other kind left by an earlier bind.
func makeMountTarget(target string, isDir bool) error {
	info, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("stat subpath target: %w", err)
	case info.IsDir() == isDir && info.Mode()&fs.ModeSymlink == 0:
		return nil
	default:
		if err := os.Remove(target); err != nil {
			return fmt.Errorf("replace subpath target: %w", err)
		}
	}
	if isDir {
		if err := os.Mkdir(target, 0o750); err != nil {
			return fmt.Errorf("create subpath target: %w", err)
		}
		return nil
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o640)
	if err != nil {
		return fmt.Errorf("create subpath target: %w", err)
	}
	return f.Close()
}
