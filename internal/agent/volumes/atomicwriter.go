package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The atomic-writer layout inside a volume directory:
//
//	<dir>/..2024_01_02_03_04_05.123456789/   the files of one version
//	<dir>/..data -> ..2024_01_02_03_04_05.123456789
//	<dir>/<top-level name> -> ..data/<top-level name>
//
// A new version is written to a new timestamped directory and published by
// renaming a fresh symlink over ..data, which is atomic; names starting with
// ".." are reserved for the writer.
const (
	dataLink    = "..data"
	newDataLink = "..data_tmp"
	tsPrefix    = ".."
	tsFormat    = "..2006_01_02_15_04_05."

	maxFileNameLength = 255
	maxPathLength     = 4096
)

// validatePayloadPath rejects a projected path that is empty, absolute, too
// long, contains a ".." element or starts with "..".
func validatePayloadPath(p string) error {
	if p == "" {
		return fmt.Errorf("invalid path: must not be empty: %q", p)
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("invalid path: must be relative path: %s", p)
	}
	if len(p) > maxPathLength {
		return fmt.Errorf("invalid path: must be less than or equal to %d characters", maxPathLength)
	}
	items := strings.Split(p, "/")
	for _, item := range items {
		if item == ".." {
			return fmt.Errorf("invalid path: must not contain '..': %s", p)
		}
		if len(item) > maxFileNameLength {
			return fmt.Errorf("invalid path: filenames must be less than or equal to %d characters", maxFileNameLength)
		}
	}
	if strings.HasPrefix(items[0], "..") && len(items[0]) > 2 {
		return fmt.Errorf("invalid path: must not start with '..': %s", p)
	}
	if filepath.Clean(p) == "." {
		return fmt.Errorf("invalid path: must name a file: %s", p)
	}
	return nil
}

// cleanPayload validates every path of p and returns p keyed by clean paths.
func cleanPayload(p payload) (payload, error) {
	out := make(payload, len(p))
	for k, f := range p {
		if err := validatePayloadPath(k); err != nil {
			return nil, err
		}
		out[filepath.Clean(k)] = f
	}
	return out, nil
}

// atomicWrite makes dir (which must exist) show exactly the files of p,
// replacing the previous version atomically when its contents or file set
// differ. It reports whether a new version was written.
func atomicWrite(dir string, p payload) (bool, error) {
	clean, err := cleanPayload(p)
	if err != nil {
		return false, err
	}
	oldTs, err := currentVersion(dir)
	if err != nil {
		return false, err
	}
	var stale []string
	if oldTs != "" {
		oldPath := filepath.Join(dir, oldTs)
		stale, err = pathsToRemove(clean, oldPath)
		if err != nil {
			return false, fmt.Errorf("list previous files: %w", err)
		}
		changed, err := contentChanged(clean, oldPath)
		if err != nil {
			return false, err
		}
		if !changed && len(stale) == 0 {
			// Nothing to write; repair visible links a crash may have lost.
			return false, createVisibleLinks(dir, clean)
		}
	}
	tsDir, err := os.MkdirTemp(dir, time.Now().UTC().Format(tsFormat))
	if err != nil {
		return false, fmt.Errorf("create version directory: %w", err)
	}
	// Group and others must be able to traverse it whatever the umask.
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return false, errors.Join(fmt.Errorf("chmod version directory: %w", err), os.RemoveAll(tsDir))
	}
	if err := writeFiles(tsDir, clean); err != nil {
		return false, errors.Join(err, os.RemoveAll(tsDir))
	}
	if err := createVisibleLinks(dir, clean); err != nil {
		return false, errors.Join(err, os.RemoveAll(tsDir))
	}
	if err := publish(dir, filepath.Base(tsDir)); err != nil {
		return false, errors.Join(err, os.RemoveAll(tsDir))
	}
	var errs []error
	for _, name := range stale {
		if strings.Contains(name, "/") {
			continue // gone with the old version directory
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove old visible path %s: %w", name, err))
		}
	}
	errs = append(errs, removeOldVersions(dir, filepath.Base(tsDir)))
	return true, errors.Join(errs...)
}

// currentVersion returns the name of the version directory ..data points
// to, or "" when there is none yet.
func currentVersion(dir string) (string, error) {
	target, err := os.Readlink(filepath.Join(dir, dataLink))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s link: %w", dataLink, err)
	}
	if strings.Contains(target, "/") || !strings.HasPrefix(target, tsPrefix) {
		return "", fmt.Errorf("%s link points outside the volume: %q", dataLink, target)
	}
	return target, nil
}

// contentChanged reports whether any file of p is missing from the old
// version or differs in content (modes are not compared: fsGroup handling
// changes them after writing).
func contentChanged(p payload, oldPath string) (bool, error) {
	for rel, f := range p {
		old, err := os.ReadFile(filepath.Join(oldPath, rel))
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("read previous %s: %w", rel, err)
		}
		if !bytes.Equal(old, f.data) {
			return true, nil
		}
	}
	return false, nil
}

// pathsToRemove lists the paths of the old version that the new payload no
// longer has (directories that still hold new files are kept).
func pathsToRemove(p payload, oldPath string) ([]string, error) {
	keep := map[string]bool{}
	for rel := range p {
		for sub := rel; sub != "." && sub != "/"; sub = filepath.Dir(sub) {
			keep[sub] = true
		}
	}
	var stale []string
	err := filepath.WalkDir(oldPath, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(oldPath, path)
		if err != nil {
			return err
		}
		if rel != "." && !keep[rel] {
			stale = append(stale, rel)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return stale, err
}

// writeFiles writes p under dir with exact modes and owners.
func writeFiles(dir string, p payload) error {
	for rel, f := range p {
		full := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("create directory for %s: %w", rel, err)
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return fmt.Errorf("write %s: %w", rel, err)
		}
		// The umask applied at creation; set the mode exactly.
		if err := os.Chmod(full, f.mode); err != nil {
			return fmt.Errorf("chmod %s: %w", rel, err)
		}
		if f.owner != nil {
			if err := os.Lchown(full, int(*f.owner), -1); err != nil {
				return fmt.Errorf("chown %s: %w", rel, err)
			}
		}
	}
	return nil
}

// createVisibleLinks makes <dir>/<top> -> ..data/<top> for every top-level
// name of p that has no entry yet.
func createVisibleLinks(dir string, p payload) error {
	for rel := range p {
		top, _, _ := strings.Cut(rel, "/")
		link := filepath.Join(dir, top)
		if _, err := os.Lstat(link); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("check visible path %s: %w", top, err)
		}
		if err := os.Symlink(filepath.Join(dataLink, top), link); err != nil {
			return fmt.Errorf("create visible link %s: %w", top, err)
		}
	}
	return nil
}

// publish points ..data at the version directory tsName atomically.
func publish(dir, tsName string) error {
	tmp := filepath.Join(dir, newDataLink)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale %s: %w", newDataLink, err)
	}
	if err := os.Symlink(tsName, tmp); err != nil {
		return fmt.Errorf("create %s link: %w", newDataLink, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		return errors.Join(fmt.Errorf("publish %s: %w", dataLink, err), os.Remove(tmp))
	}
	return nil
}

// removeOldVersions deletes version directories other than current (the
// previous one, and any an interrupted write left behind).
func removeOldVersions(dir, current string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list volume directory: %w", err)
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || name == current || !isVersionDir(name) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			errs = append(errs, fmt.Errorf("remove old version %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// isVersionDir reports whether name has the shape of a version directory
// ("..2024_...").
func isVersionDir(name string) bool {
	return len(name) > 3 && strings.HasPrefix(name, tsPrefix) && name[2] >= '0' && name[2] <= '9'
}
