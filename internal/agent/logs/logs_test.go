package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var base = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// at returns base plus i seconds.
func at(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }

// rec formats one CRI log record.
func rec(i int, stream, tag, content string) string {
	return fmt.Sprintf("%s %s %s %s\n", at(i).Format(time.RFC3339Nano), stream, tag, content)
}

func ptr[T any](v T) *T { return &v }

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    record
		wantErr bool
	}{
		{"full", rec(1, "stdout", "F", "hello"), record{time: at(1), stream: "stdout", content: []byte("hello\n")}, false},
		{"partial drops newline", rec(1, "stderr", "P", "hel"), record{time: at(1), stream: "stderr", partial: true, content: []byte("hel")}, false},
		{"extra tags", rec(1, "stdout", "F:x", "a b"), record{time: at(1), stream: "stdout", content: []byte("a b\n")}, false},
		{"empty content", rec(1, "stdout", "F", ""), record{time: at(1), stream: "stdout", content: []byte("\n")}, false},
		{"no separator after tag", at(1).Format(time.RFC3339Nano) + " stdout F\n", record{time: at(1), stream: "stdout", content: []byte("\n")}, false},
		{"no newline at end", strings.TrimSuffix(rec(1, "stdout", "F", "x"), "\n"), record{time: at(1), stream: "stdout", content: []byte("x")}, false},
		{"zone offset", "2026-03-01T11:00:01.5+01:00 stdout F z\n", record{time: base.Add(1500 * time.Millisecond), stream: "stdout", content: []byte("z\n")}, false},
		{"bad time", "yesterday stdout F x\n", record{}, true},
		{"bad stream", rec(1, "stdin", "F", "x"), record{}, true},
		{"bad tag", rec(1, "stdout", "X", "x"), record{}, true},
		{"no fields", "garbage\n", record{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRecord([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if !got.time.Equal(tc.want.time) || got.stream != tc.want.stream || got.partial != tc.want.partial || string(got.content) != string(tc.want.content) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestAssemblerJoinsPerStream(t *testing.T) {
	var a assembler
	feed := []record{
		{time: at(1), stream: "stdout", partial: true, content: []byte("a1")},
		{time: at(2), stream: "stderr", content: []byte("b\n")},
		{time: at(3), stream: "stdout", partial: true, content: []byte("a2")},
		{time: at(4), stream: "stdout", content: []byte("a3\n")},
		{time: at(5), stream: "stderr", partial: true, content: []byte("c")},
	}
	var got []string
	for _, r := range feed {
		if l, ok := a.add(r); ok {
			got = append(got, fmt.Sprintf("%d:%s", l.time.Sub(base)/time.Second, l.content))
		}
	}
	want := []string{"2:b\n", "1:a1a2a3\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("lines %q, want %q", got, want)
	}
	rest := a.flush()
	if len(rest) != 1 || string(rest[0].content) != "c" {
		t.Fatalf("flush = %+v", rest)
	}
}

func TestTailStart(t *testing.T) {
	full := func(off int64, s string) rawRecord { return rawRecord{offset: off, stream: s} }
	part := func(off int64, s string) rawRecord { return rawRecord{offset: off, stream: s, partial: true} }
	tests := []struct {
		name     string
		recs     []rawRecord
		n        int64
		wantOff  int64
		wantSkip int64
		wantOK   bool
	}{
		{"zero lines means end", []rawRecord{full(0, "stdout")}, 0, 100, 0, true},
		{"last two of three", []rawRecord{full(0, "stdout"), full(10, "stdout"), full(20, "stdout")}, 2, 10, 0, true},
		{"more than available", []rawRecord{full(0, "stdout"), full(10, "stdout")}, 5, 0, 0, false},
		{"partial line kept whole", []rawRecord{full(0, "stdout"), part(10, "stdout"), part(20, "stdout"), full(30, "stdout")}, 1, 10, 0, true},
		{"interleaved stream inside long line", []rawRecord{full(0, "stdout"), part(10, "stdout"), full(20, "stderr"), full(30, "stdout")}, 1, 10, 1, true},
		{"trailing partial does not count", []rawRecord{full(0, "stdout"), full(10, "stdout"), part(20, "stdout")}, 1, 10, 0, true},
		{"invalid records ignored", []rawRecord{full(0, "stdout"), {offset: 10, invalid: true}, full(20, "stdout"), full(30, "stdout")}, 1, 30, 0, true},
		{"rare stream reaches back to its previous line", []rawRecord{full(0, "stderr"), full(10, "stdout"), full(20, "stdout"), full(30, "stderr")}, 2, 10, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			off, skip, ok := tailStart(tc.recs, 100, tc.n)
			if off != tc.wantOff || skip != tc.wantSkip || ok != tc.wantOK {
				t.Fatalf("got %d %d %v, want %d %d %v", off, skip, ok, tc.wantOff, tc.wantSkip, tc.wantOK)
			}
		})
	}
}

func writeLog(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadOnce(t *testing.T) {
	log := rec(1, "stdout", "F", "one") +
		rec(2, "stderr", "F", "two") +
		"not a record\n" +
		rec(3, "stdout", "P", "thr") +
		rec(4, "stderr", "F", "four") +
		rec(5, "stdout", "F", "ee") +
		rec(6, "stdout", "F", "six")
	ts := func(i int) string { return at(i).Format(time.RFC3339Nano) + " " }
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"all", Options{}, "one\ntwo\nfour\nthree\nsix\n"},
		{"tail 2", Options{TailLines: ptr[int64](2)}, "three\nsix\n"},
		{"tail 3 skips interleaved older line", Options{TailLines: ptr[int64](3)}, "four\nthree\nsix\n"},
		{"tail 0", Options{TailLines: ptr[int64](0)}, ""},
		{"tail more than lines", Options{TailLines: ptr[int64](50)}, "one\ntwo\nfour\nthree\nsix\n"},
		{"since", Options{SinceTime: ptr(at(3))}, "four\nthree\nsix\n"},
		{"since after tail", Options{TailLines: ptr[int64](3), SinceTime: ptr(at(4))}, "four\nsix\n"},
		{"timestamps use first record time", Options{Timestamps: true, TailLines: ptr[int64](2)}, ts(3) + "three\n" + ts(6) + "six\n"},
		{"limit cuts line", Options{LimitBytes: ptr[int64](6)}, "one\ntw"},
		{"limit counts timestamps", Options{LimitBytes: ptr[int64](int64(len(ts(1)) + 2)), Timestamps: true}, ts(1) + "on"},
		{"zero limit", Options{LimitBytes: ptr[int64](0)}, ""},
	}
	path := writeLog(t, log)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Read(context.Background(), path, tc.opts, &out, nil); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Fatalf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func TestReadUnfinishedEnd(t *testing.T) {
	path := writeLog(t, rec(1, "stdout", "F", "a")+rec(2, "stdout", "P", "half")+strings.TrimSuffix(rec(3, "stderr", "F", "cut"), "\n"))
	var out bytes.Buffer
	if err := Read(context.Background(), path, Options{}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\ncuthalf" {
		t.Fatalf("got %q", out.String())
	}
}

func TestReadTailOfLargeFile(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		b.WriteString(rec(i, "stdout", "F", fmt.Sprintf("line %04d %s", i, strings.Repeat("x", 40))))
	}
	path := writeLog(t, b.String())
	var out bytes.Buffer
	if err := Read(context.Background(), path, Options{TailLines: ptr[int64](3000)}, &out, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3000 || !strings.HasPrefix(lines[0], "line 2000 ") || !strings.HasPrefix(lines[2999], "line 4999 ") {
		t.Fatalf("got %d lines, first %q", len(lines), lines[0])
	}
}

func TestReadMissingFile(t *testing.T) {
	err := Read(context.Background(), filepath.Join(t.TempDir(), "none.log"), Options{}, &bytes.Buffer{}, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

// syncBuffer is a goroutine-safe output buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// flag is a goroutine-safe boolean.
type flag struct {
	mu sync.Mutex
	v  bool
}

func (f *flag) set(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.v = v
}

func (f *flag) get() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.v
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// follow starts read in follow mode and returns its output and result.
func follow(t *testing.T, ctx context.Context, path string, opts Options, running *flag) (*syncBuffer, chan error) {
	t.Helper()
	out := &syncBuffer{}
	done := make(chan error, 1)
	opts.Follow = true
	go func() { done <- read(ctx, path, opts, out, running.get, 5*time.Millisecond) }()
	return out, done
}

func result(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Read did not return")
		return nil
	}
}

func TestFollowUntilContainerStops(t *testing.T) {
	path := writeLog(t, rec(1, "stdout", "F", "old"))
	running := &flag{v: true}
	out, done := follow(t, context.Background(), path, Options{TailLines: ptr[int64](1)}, running)
	waitFor(t, "existing line", func() bool { return out.String() == "old\n" })

	appendTo(t, path, rec(2, "stdout", "P", "new "))
	appendTo(t, path, strings.TrimSuffix(rec(2, "stdout", "F", "line"), "\n"))
	appendTo(t, path, "\n"+rec(3, "stderr", "F", "err"))
	waitFor(t, "appended lines", func() bool { return out.String() == "old\nnew line\nerr\n" })

	running.set(false)
	appendTo(t, path, rec(4, "stdout", "F", "last words"))
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "old\nnew line\nerr\nlast words\n" {
		t.Fatalf("got %q", got)
	}
}

func TestFollowAcrossRotationAndTruncation(t *testing.T) {
	path := writeLog(t, rec(1, "stdout", "F", "a"))
	running := &flag{v: true}
	out, done := follow(t, context.Background(), path, Options{}, running)
	waitFor(t, "first line", func() bool { return out.String() == "a\n" })

	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path+".1", rec(2, "stdout", "F", "b"))
	appendTo(t, path, rec(3, "stdout", "F", "c, a longer line"))
	waitFor(t, "rotated lines", func() bool { return out.String() == "a\nb\nc, a longer line\n" })

	// Truncation is noticed when the file is smaller than what was read.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, rec(4, "stdout", "F", "d"))
	waitFor(t, "line after truncation", func() bool { return out.String() == "a\nb\nc, a longer line\nd\n" })

	running.set(false)
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
}

func TestFollowStopsOnContextAndLimit(t *testing.T) {
	path := writeLog(t, rec(1, "stdout", "F", "a"))
	running := &flag{v: true}
	ctx, cancel := context.WithCancel(context.Background())
	out, done := follow(t, ctx, path, Options{}, running)
	waitFor(t, "first line", func() bool { return out.String() == "a\n" })
	cancel()
	if err := result(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}

	out, done = follow(t, context.Background(), path, Options{LimitBytes: ptr[int64](4)}, running)
	appendTo(t, path, rec(2, "stdout", "F", "bcd"))
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\nbc" {
		t.Fatalf("got %q", out.String())
	}
}
