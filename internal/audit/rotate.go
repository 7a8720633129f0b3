package audit

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// backupTimeFormat names rotated files <name>-<time><ext> in UTC, as the
// lumberjack logger Kubernetes uses does, so log shippers configured for
// kube-apiserver's audit log match ours.
const backupTimeFormat = "2006-01-02T15-04-05.000"

// rotator appends to a file and, before a write would take it past
// maxSize, renames it to a timestamped backup and starts a new one; then
// it removes the backups beyond maxBackups or older than maxAge (0 keeps).
// Not safe for concurrent use: the LogWriter's one goroutine owns it.
type rotator struct {
	path       string
	maxSize    int64
	maxBackups int
	maxAge     time.Duration
	now        func() time.Time

	file *os.File
	buf  *bufio.Writer
	size int64
	// lastBackup is the newest backup's time: a new backup is named after
	// it even if the clock says otherwise, so names sort like contents.
	lastBackup time.Time
}

func openRotator(path string, maxSize int64, maxBackups int, maxAge time.Duration, now func() time.Time) (*rotator, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log directory: %w", err)
	}
	r := &rotator{path: path, maxSize: maxSize, maxBackups: maxBackups, maxAge: maxAge, now: now}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotator) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	// An existing file may have been created with wider permissions; the
	// log names every user and object, so keep it private.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	r.file, r.size = f, st.Size()
	if r.buf == nil {
		r.buf = bufio.NewWriterSize(f, 64<<10)
	} else {
		r.buf.Reset(f)
	}
	return nil
}

// write appends p (one JSON line), rotating first when needed. A line
// longer than maxSize still goes, alone, into a fresh file.
func (r *rotator) write(p []byte) error {
	if r.size > 0 && r.size+int64(len(p)) > r.maxSize {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.buf.Write(p)
	r.size += int64(n)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

func (r *rotator) flush() error {
	if err := r.buf.Flush(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

func (r *rotator) close() error {
	ferr := r.flush()
	if err := r.file.Close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("audit log: %w", err)
	}
	return ferr
}

func (r *rotator) rotate() error {
	if err := r.close(); err != nil {
		return err
	}
	dir, prefix, ext := r.nameParts()
	at := r.now().UTC().Truncate(time.Millisecond)
	if !at.After(r.lastBackup) && !r.lastBackup.IsZero() {
		// Two rotations within a millisecond (bursts, a clock stepping
		// back) must neither overwrite each other's backup nor sort out
		// of order.
		at = r.lastBackup.Add(time.Millisecond)
	}
	backup := filepath.Join(dir, prefix+at.Format(backupTimeFormat)+ext)
	// A backup left by an earlier run may hold the name.
	for {
		if _, err := os.Lstat(backup); os.IsNotExist(err) {
			break
		}
		at = at.Add(time.Millisecond)
		backup = filepath.Join(dir, prefix+at.Format(backupTimeFormat)+ext)
	}
	if err := os.Rename(r.path, backup); err != nil {
		return fmt.Errorf("audit log rotation: %w", err)
	}
	r.lastBackup = at
	if err := r.open(); err != nil {
		return err
	}
	return r.prune()
}

// nameParts splits /dir/audit.log into "/dir", "audit-" and ".log".
func (r *rotator) nameParts() (dir, prefix, ext string) {
	dir, base := filepath.Split(r.path)
	ext = filepath.Ext(base)
	return dir, strings.TrimSuffix(base, ext) + "-", ext
}

func (r *rotator) prune() error {
	if r.maxBackups <= 0 && r.maxAge <= 0 {
		return nil
	}
	dir, prefix, ext := r.nameParts()
	entries, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return fmt.Errorf("audit log backups: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	for _, name := range backupsToRemove(names, prefix, ext, r.now(), r.maxBackups, r.maxAge) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("audit log backups: %w", err)
		}
	}
	return nil
}

// backupsToRemove picks, among the file names of a directory, the backups
// (prefix<time>ext) beyond the newest maxBackups (0 = no count limit) or
// older than maxAge (0 = no age limit). Other files are never picked.
func backupsToRemove(names []string, prefix, ext string, now time.Time, maxBackups int, maxAge time.Duration) []string {
	type backup struct {
		name string
		at   time.Time
	}
	var backups []backup
	for _, name := range names {
		stamp, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		stamp, ok = strings.CutSuffix(stamp, ext)
		if !ok {
			continue
		}
		at, err := time.Parse(backupTimeFormat, stamp)
		if err != nil {
			continue
		}
		backups = append(backups, backup{name, at})
	}
	slices.SortFunc(backups, func(a, b backup) int { return b.at.Compare(a.at) }) // newest first
	var remove []string
	for i, b := range backups {
		if (maxBackups > 0 && i >= maxBackups) || (maxAge > 0 && now.Sub(b.at) > maxAge) {
			remove = append(remove, b.name)
		}
	}
	return remove
}
