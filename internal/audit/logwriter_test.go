package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBackupsToRemove(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	name := func(d time.Duration) string { return "audit-" + now.Add(-d).Format(backupTimeFormat) + ".log" }
	names := []string{
		"audit.log", "audit-notes.log", "audit-2026.log", "other-" + now.Format(backupTimeFormat) + ".log",
		name(3 * time.Hour), name(time.Hour), name(50 * time.Hour), name(2 * time.Hour),
	}
	tests := []struct {
		name       string
		maxBackups int
		maxAge     time.Duration
		want       []string
	}{
		{"keep all", 0, 0, nil},
		{"count", 2, 0, []string{name(3 * time.Hour), name(50 * time.Hour)}},
		{"age", 0, 24 * time.Hour, []string{name(50 * time.Hour)}},
		{"both", 3, 150 * time.Minute, []string{name(3 * time.Hour), name(50 * time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := backupsToRemove(names, "audit-", ".log", now, tt.maxBackups, tt.maxAge)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func testEvent(i int) *Event {
	return &Event{Kind: "Event", APIVersion: APIVersion, Level: LevelMetadata, AuditID: fmt.Sprintf("id-%04d", i),
		Stage: StageResponseComplete, RequestURI: "/api/v1/pods", Verb: "list"}
}

// runWriter starts w.Run and returns a function that stops it and returns
// Run's error.
func runWriter(t *testing.T, w *LogWriter) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
			return nil
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for _, l := range lines {
		var ev Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Kind != "Event" {
			t.Errorf("%s: bad line %q: %v", path, l, err)
		}
	}
	return lines
}

func TestLogWriterRotates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit", "audit.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	// Not backups: must survive pruning.
	for _, other := range []string{"audit-notes.log", "README"} {
		if err := os.WriteFile(filepath.Join(dir, "audit", other), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	line, err := encodeEvent(testEvent(0))
	if err != nil {
		t.Fatal(err)
	}
	const perFile = 3
	w, err := NewLogWriter(LogConfig{Path: path, MaxBackups: 2, maxSizeBytes: int64(perFile * len(line))})
	if err != nil {
		t.Fatal(err)
	}
	stop := runWriter(t, w)
	const total = 20
	for i := range total {
		w.Process(testEvent(i))
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if w.Dropped() != 0 {
		t.Errorf("dropped %d", w.Dropped())
	}

	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var backups []string
	for _, e := range entries {
		n := e.Name()
		if n == "audit.log" || n == "audit-notes.log" || n == "README" {
			continue
		}
		if _, err := time.Parse(backupTimeFormat, strings.TrimSuffix(strings.TrimPrefix(n, "audit-"), ".log")); err != nil {
			t.Errorf("unexpected file %q", n)
		}
		backups = append(backups, n)
	}
	if len(backups) != 2 {
		t.Fatalf("backups %v, want 2", backups)
	}
	// ReadDir sorts by name, which for backups is by time: the newest
	// events are in the newest backup and then the live file, in order.
	var ids []string
	for _, f := range append(backups, "audit.log") {
		for _, l := range readLines(t, filepath.Join(filepath.Dir(path), f)) {
			var ev Event
			_ = json.Unmarshal([]byte(l), &ev)
			ids = append(ids, ev.AuditID)
		}
	}
	var want []string
	for i := total - len(ids); i < total; i++ {
		want = append(want, fmt.Sprintf("id-%04d", i))
	}
	if len(ids) < 2*perFile+1 || !slices.Equal(ids, want) {
		t.Errorf("kept events %v, want the newest in order %v", ids, want)
	}
	for _, f := range []string{path, filepath.Join(filepath.Dir(path), backups[0])} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, %v", f, st.Mode(), err)
		}
	}
}

func TestLogWriterPermissionsAndAppend(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	path := filepath.Join(dir, "a.log")
	w, err := NewLogWriter(LogConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	stop := runWriter(t, w)
	w.Process(testEvent(1))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, %v", st.Mode(), err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	// A second writer appends and makes the file private again.
	w, err = NewLogWriter(LogConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	stop = runWriter(t, w)
	w.Process(testEvent(2))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if lines := readLines(t, path); len(lines) != 2 {
		t.Errorf("lines %v", lines)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v", st.Mode(), err)
	}
	if _, err := NewLogWriter(LogConfig{Path: ""}); err == nil {
		t.Error("empty path accepted")
	}
}

func TestLogWriterStdoutAndDrops(t *testing.T) {
	var out bytes.Buffer
	w, err := NewLogWriter(LogConfig{Path: "-", stdout: &out, QueueSize: 2, enqueueTimeout: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing drains yet: two fit, the third waits briefly and is dropped.
	for i := range 3 {
		w.Process(testEvent(i))
	}
	if w.Dropped() != 1 {
		t.Errorf("dropped %d, want 1", w.Dropped())
	}
	stop := runWriter(t, w)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 2 || !strings.Contains(out.String(), `"auditID":"id-0001"`) {
		t.Errorf("stdout %q", out.String())
	}
	w.Process(testEvent(9)) // after Run: dropped, never blocks
	if w.Dropped() != 2 {
		t.Errorf("dropped %d after close, want 2", w.Dropped())
	}
}

func TestResolveLogPath(t *testing.T) {
	tests := []struct {
		flag, want string
		enabled    bool
	}{
		{"", "/var/lib/skiff/audit/audit.log", true},
		{"-", "-", true},
		{"none", "", false},
		{"/var/log/audit.log", "/var/log/audit.log", true},
	}
	for _, tt := range tests {
		got, enabled := ResolveLogPath(tt.flag, "/var/lib/skiff")
		if got != tt.want || enabled != tt.enabled {
			t.Errorf("%q: %q %v", tt.flag, got, enabled)
		}
	}
}
