package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// commandDeadline bounds every kubectl invocation.
const commandDeadline = 90 * time.Second

// kubectl runs the real kubectl against a cluster with a private HOME (so a
// fresh discovery cache) and the cluster's admin kubeconfig.
type kubectl struct {
	t    testing.TB
	c    Cluster
	home string
	dir  string // working directory (manifests are written here)
}

func newKubectl(t testing.TB, c Cluster) *kubectl {
	t.Helper()
	requireKubectl(t)
	return &kubectl{t: t, c: c, home: t.TempDir(), dir: t.TempDir()}
}

// with returns a kubectl that reports to t (a subtest) and shares this
// one's HOME and working directory.
func (k *kubectl) with(t testing.TB) *kubectl {
	c := *k
	c.t = t
	return &c
}

// result is what one kubectl invocation printed and how it exited.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("kubectl %s\nexit code: %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// env is kubectl's environment: the test's, minus anything that could
// point it elsewhere.
func (k *kubectl) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "KUBECONFIG", name == "HOME", name == "EDITOR", name == "KUBE_EDITOR",
			strings.HasPrefix(name, "KUBECTL_"), strings.HasPrefix(name, "KUBERC"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "KUBECONFIG="+k.c.Kubeconfig(), "HOME="+k.home)
	return append(env, extra...)
}

func (k *kubectl) command(ctx context.Context, stdin string, env []string, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, kubectlPath, args...)
	cmd.Env = k.env(env...)
	cmd.Dir = k.dir
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	return cmd
}

// runEnv runs kubectl with extra environment and stdin and returns what
// happened; it fails the test only when kubectl could not be run at all.
func (k *kubectl) runEnv(env []string, stdin string, args ...string) result {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandDeadline)
	defer cancel()
	cmd := k.command(ctx, stdin, env, args)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		k.t.Fatalf("kubectl %s: no result within %v\n%s", strings.Join(args, " "), commandDeadline, r)
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		k.t.Fatalf("running kubectl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

func (k *kubectl) run(args ...string) result {
	k.t.Helper()
	return k.runEnv(nil, "", args...)
}

// ok runs kubectl, requires exit code 0 and returns stdout.
func (k *kubectl) ok(args ...string) string {
	k.t.Helper()
	r := k.run(args...)
	if r.code != 0 {
		k.t.Fatalf("want success, got:\n%s", r)
	}
	return r.stdout
}

// fails runs kubectl and requires exit code 1, kubectl's code for an
// error (from the server or its own).
func (k *kubectl) fails(args ...string) result {
	k.t.Helper()
	r := k.run(args...)
	if r.code != 1 {
		k.t.Fatalf("want exit code 1, got:\n%s", r)
	}
	return r
}

// write stores a file in kubectl's working directory and returns its name.
func (k *kubectl) write(name, content string) string {
	k.t.Helper()
	if err := os.WriteFile(filepath.Join(k.dir, name), []byte(content), 0o600); err != nil {
		k.t.Fatal(err)
	}
	return name
}

// namespace creates a namespace for one scenario.
func (k *kubectl) namespace(name string) string {
	k.t.Helper()
	out := k.ok("create", "namespace", name)
	wantLines(k.t, out, "namespace/"+name+" created")
	return name
}

// background runs kubectl until ctx ends or it exits, delivering stdout
// line by line.
type background struct {
	lines  chan string
	done   chan struct{}
	err    error
	stderr syncBuffer
	mu     sync.Mutex
	seen   []string
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitStderr waits (with a deadline) until stderr contains s: with -v=6
// kubectl logs each request, which tells when its watch is established.
func (b *background) waitStderr(t testing.TB, s string, deadline time.Duration) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !strings.Contains(b.stderr.String(), s) {
		select {
		case <-b.done:
			if strings.Contains(b.stderr.String(), s) {
				return
			}
			t.Fatalf("kubectl ended (%v) before logging %q; stderr:\n%s", b.err, s, b.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(end) {
			t.Fatalf("kubectl did not log %q within %v; stderr:\n%s", s, deadline, b.stderr.String())
		}
	}
}

func (k *kubectl) start(ctx context.Context, env []string, args ...string) *background {
	k.t.Helper()
	cmd := k.command(ctx, "", env, args)
	b := &background{lines: make(chan string, 1024), done: make(chan struct{})}
	cmd.Stderr = &b.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		k.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		k.t.Fatalf("starting kubectl %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			b.lines <- sc.Text()
		}
		b.err = cmd.Wait()
		close(b.lines)
		close(b.done)
	}()
	return b
}

// waitLine waits (with a deadline) for a line matching re and returns it.
func (b *background) waitLine(t testing.TB, re *regexp.Regexp, deadline time.Duration) string {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-b.lines:
			if !ok {
				<-b.done
				t.Fatalf("kubectl ended (%v) before printing a line matching %q; stdout so far:\n%s\nstderr:\n%s",
					b.err, re, b.output(), b.stderr.String())
			}
			b.mu.Lock()
			b.seen = append(b.seen, line)
			b.mu.Unlock()
			if re.MatchString(line) {
				return line
			}
		case <-timer.C:
			t.Fatalf("no line matching %q within %v; stdout so far:\n%s", re, deadline, b.output())
		}
	}
}

// wait waits for the command to end and returns its error.
func (b *background) wait(t testing.TB, deadline time.Duration) error {
	t.Helper()
	go func() {
		for line := range b.lines {
			b.mu.Lock()
			b.seen = append(b.seen, line)
			b.mu.Unlock()
		}
	}()
	select {
	case <-b.done:
		return b.err
	case <-time.After(deadline):
		t.Fatalf("kubectl did not end within %v", deadline)
		return nil
	}
}

func (b *background) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.seen, "\n")
}

// table is kubectl's column output.
type table struct {
	header []string
	rows   []map[string]string
}

// column splits kubectl's aligned output: columns start where the header's
// names start (names are separated by at least two spaces; a name such as
// "NOMINATED NODE" has one).
var headerSep = regexp.MustCompile(`\S+( \S+)*`)

func parseTable(t testing.TB, out string) table {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		t.Fatalf("no table in output:\n%s", out)
	}
	var tb table
	locs := headerSep.FindAllStringIndex(lines[0], -1)
	for _, l := range locs {
		tb.header = append(tb.header, lines[0][l[0]:l[1]])
	}
	for _, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		row := map[string]string{}
		for i, l := range locs {
			start, end := l[0], len(line)
			if i+1 < len(locs) {
				end = min(locs[i+1][0], len(line))
			}
			if start < len(line) {
				row[tb.header[i]] = strings.TrimSpace(line[start:end])
			} else {
				row[tb.header[i]] = ""
			}
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

// row returns the row whose column col is value.
func (tb table) row(t testing.TB, col, value string) map[string]string {
	t.Helper()
	for _, r := range tb.rows {
		if r[col] == value {
			return r
		}
	}
	t.Fatalf("no row with %s=%q in %v", col, value, tb.rows)
	return nil
}

// wantHeader requires the exact column names, in order.
func (tb table) wantHeader(t testing.TB, cols ...string) {
	t.Helper()
	if strings.Join(tb.header, "|") != strings.Join(cols, "|") {
		t.Errorf("columns = %q, want %q", tb.header, cols)
	}
}

// wantRow requires that the row whose first column is name has the given
// cells (columns not mentioned are not checked).
func (tb table) wantRow(t testing.TB, name string, cells map[string]string) {
	t.Helper()
	r := tb.row(t, tb.header[0], name)
	for col, want := range cells {
		if got, ok := r[col]; !ok || got != want {
			t.Errorf("row %s: %s = %q, want %q (row %v)", name, col, got, want, r)
		}
	}
}

// wantLines requires every line to appear in out as a whole line.
func wantLines(t testing.TB, out string, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		have[strings.TrimRight(l, " \r")] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("output lacks line %q; output:\n%s", l, out)
		}
	}
}

// wantExactLines requires out to be exactly these lines.
func wantExactLines(t testing.TB, out string, lines ...string) {
	t.Helper()
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i := range got {
		got[i] = strings.TrimRight(got[i], " \r")
	}
	if strings.Join(got, "\n") != strings.Join(lines, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(lines, "\n"))
	}
}

func wantContains(t testing.TB, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q; output:\n%s", s, out)
		}
	}
}
