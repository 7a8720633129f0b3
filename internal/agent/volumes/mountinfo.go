package volumes

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mountEntry is one line of /proc/self/mountinfo, reduced to what we use.
type mountEntry struct {
	point  string
	fsType string
}

// parseMountInfo reads a mountinfo document (proc(5)): field 5 is the mount
// point (octal-escaped), and the field after the " - " separator is the
// file system type.
func parseMountInfo(r io.Reader) ([]mountEntry, error) {
	var out []mountEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		pre, post, ok := strings.Cut(line, " - ")
		fields := strings.Fields(pre)
		if !ok || len(fields) < 5 {
			return nil, fmt.Errorf("malformed mountinfo line %q", line)
		}
		e := mountEntry{point: unescapeOctal(fields[4])}
		if pf := strings.Fields(post); len(pf) > 0 {
			e.fsType = pf[0]
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// unescapeOctal undoes the \ooo escapes the kernel uses for space, tab,
// newline and backslash in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// readMounts returns the current mount table of this process.
func readMounts() ([]mountEntry, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	defer f.Close()
	return parseMountInfo(f)
}

// mountsUnder returns the mount points at or below root, deepest first (a
// point mounted more than once is listed once per mount).
func mountsUnder(entries []mountEntry, root string) []string {
	var out []string
	for _, e := range entries {
		if e.point == root || strings.HasPrefix(e.point, root+"/") {
			out = append(out, e.point)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// mountedAt returns the file system type mounted at path (the top-most
// mount), or "" when path is not a mount point.
func mountedAt(entries []mountEntry, path string) string {
	fsType := ""
	for _, e := range entries {
		if e.point == path {
			fsType = e.fsType
		}
	}
	return fsType
}

// unmount detaches the mount at path; a busy mount is detached lazily and
// a path that is no longer mounted is not an error.
func unmount(path string) error {
	err := unix.Unmount(path, unix.UMOUNT_NOFOLLOW)
	if errors.Is(err, unix.EBUSY) {
		err = unix.Unmount(path, unix.UMOUNT_NOFOLLOW|unix.MNT_DETACH)
	}
	if err == nil || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return fmt.Errorf("unmount %s: %w", path, err)
}
