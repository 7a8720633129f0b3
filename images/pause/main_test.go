package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runAsPauseEnv makes the test binary behave as the pause program, so the
// tests can run it as a child process.
const runAsPauseEnv = "SKIFF_TEST_RUN_PAUSE"

func TestMain(m *testing.M) {
	if os.Getenv(runAsPauseEnv) == "1" {
		main() // returns only for -v
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func pauseCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runAsPauseEnv+"=1")
	return cmd
}

func TestExitsZeroOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := pauseCommand()
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			lines := bufio.NewScanner(stderr)
			// The warning is written once the handlers are installed.
			if !lines.Scan() || !strings.Contains(lines.Text(), "not running as PID 1") {
				t.Fatalf("first stderr line %q, want the PID 1 warning", lines.Text())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(stderr)
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("pause exited with %v, want status 0; stderr: %s", err, rest)
			}
			if !strings.Contains(string(rest), "shutting down, got signal: "+sig.String()) {
				t.Errorf("stderr %q lacks the shutdown message", rest)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	out, err := pauseCommand("-v").Output()
	if err != nil {
		t.Fatalf("pause -v: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != version {
		t.Errorf("pause -v printed %q, want %q", got, version)
	}
}

func TestReapChildren(t *testing.T) {
	// Start children without os/exec so nothing else waits for them.
	const children = 3
	for range children {
		if _, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "exit 7"}, &syscall.ProcAttr{}); err != nil {
			t.Fatalf("starting child: %v", err)
		}
	}
	reaped := 0
	deadline := time.Now().Add(10 * time.Second)
	for reaped < children {
		if time.Now().After(deadline) {
			t.Fatalf("reaped %d of %d children before the deadline", reaped, children)
		}
		reaped += reapChildren()
		time.Sleep(10 * time.Millisecond)
	}
	if reaped != children {
		t.Errorf("reaped %d children, want %d", reaped, children)
	}
	if n := reapChildren(); n != 0 {
		t.Errorf("second pass reaped %d, want 0", n)
	}
}
