// Command pause is Skiff's pod sandbox ("pause") process. It runs as PID 1
// of a pod sandbox, holding the pod's namespaces open: it does nothing but
// wait, reaping any zombie child re-parented to it (SIGCHLD), and exits 0 as
// soon as it receives SIGINT or SIGTERM. With -v it prints its version and
// exits.
//
// Build it static and small:
//
//	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" ./images/pause
//
// It deliberately imports only os, os/signal and syscall.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

// version is what -v prints.
const version = "skiff-pause 1.0"

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version") {
		_, _ = os.Stdout.WriteString(version + "\n")
		return
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	// Written after the handlers are installed, so whoever sees it knows
	// a signal will be handled.
	if os.Getpid() != 1 {
		_, _ = os.Stderr.WriteString("pause: warning: not running as PID 1\n")
	}
	os.Exit(waitForShutdown(sigs))
}

// waitForShutdown reaps children on every SIGCHLD received from sigs until
// SIGINT or SIGTERM arrives, then returns the exit code 0.
func waitForShutdown(sigs <-chan os.Signal) int {
	// Children may have exited before the handler was installed.
	reapChildren()
	for sig := range sigs {
		if sig == syscall.SIGCHLD {
			reapChildren()
			continue
		}
		_, _ = os.Stderr.WriteString("pause: shutting down, got signal: " + sig.String() + "\n")
		return 0
	}
	return 0
}

// reapChildren collects every child that has exited, without blocking, and
// returns how many it collected. SIGCHLD signals coalesce, so one signal may
// stand for several exited children.
func reapChildren() int {
	reaped := 0
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return reaped
		}
		reaped++
	}
}
