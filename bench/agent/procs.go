package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mem is the memory of one process or the sum over several, in bytes.
type Mem struct {
	// Procs is how many processes were summed.
	Procs int
	// RSS is VmRSS: resident pages, shared ones counted in full by every
	// process that maps them.
	RSS int64
	// HWM is VmHWM, the peak RSS (summed: an upper bound).
	HWM int64
	// PSS is the proportional set size from smaps_rollup: shared pages
	// divided among their users, so that a sum over processes is fair.
	PSS int64
}

// Add returns the sum of m and o.
func (m Mem) Add(o Mem) Mem {
	return Mem{Procs: m.Procs + o.Procs, RSS: m.RSS + o.RSS, HWM: m.HWM + o.HWM, PSS: m.PSS + o.PSS}
}

// kbField returns the value of a "Key:   1234 kB" line of a /proc file in
// bytes; ok is false when the key is absent.
func kbField(text, key string) (n int64, ok bool, err error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), ":")
		if !found || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false, fmt.Errorf("%s: unexpected value %q, want \"<n> kB\"", key, strings.TrimSpace(v))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, false, fmt.Errorf("%s: unexpected value %q", key, strings.TrimSpace(v))
		}
		return kb * 1024, true, nil
	}
	return 0, false, sc.Err()
}

// ParseMem reads a process's memory from the text of /proc/<pid>/status
// (VmRSS required, VmHWM optional) and /proc/<pid>/smaps_rollup (Pss;
// empty when the kernel has no such file).
func ParseMem(status, smapsRollup string) (Mem, error) {
	rss, ok, err := kbField(status, "VmRSS")
	if err != nil {
		return Mem{}, err
	}
	if !ok {
		return Mem{}, fmt.Errorf("no VmRSS line (kernel thread or exited process?)")
	}
	hwm, _, err := kbField(status, "VmHWM")
	if err != nil {
		return Mem{}, err
	}
	pss, _, err := kbField(smapsRollup, "Pss")
	if err != nil {
		return Mem{}, err
	}
	return Mem{Procs: 1, RSS: rss, HWM: hwm, PSS: pss}, nil
}

// ReadMem reads the memory of one process.
func ReadMem(pid int) (Mem, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Mem{}, fmt.Errorf("reading memory of pid %d: %w", pid, err)
	}
	rollup, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	m, err := ParseMem(string(status), string(rollup))
	if err != nil {
		return Mem{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	return m, nil
}

// SumMem is the memory of several processes together; processes that
// exited meanwhile are left out.
func SumMem(pids []int) Mem {
	var total Mem
	for _, pid := range pids {
		if m, err := ReadMem(pid); err == nil {
			total = total.Add(m)
		}
	}
	return total
}

// procKind is the role of a process of the agent's container runtime.
type procKind int

const (
	kindOther procKind = iota
	// kindContainerd is the agent's containerd (--config under its dir).
	kindContainerd
	// kindShim is a containerd shim serving that containerd (-address
	// under its dir).
	kindShim
)

// classify tells, from a NUL-separated command line, whether a process
// is the containerd whose files live in dir or one of its shims.
func classify(cmdline []byte, dir string) procKind {
	args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	if len(args) == 0 || len(args[0]) == 0 || !mentionsDir(cmdline, dir) {
		return kindOther
	}
	switch base := filepath.Base(string(args[0])); {
	case base == "containerd":
		return kindContainerd
	case strings.HasPrefix(base, "containerd-shim"):
		return kindShim
	}
	return kindOther
}

// mentionsDir reports whether an argument of a NUL-separated command line
// is dir or a path below it ("/a/b" does not mention "/a/bc").
func mentionsDir(cmdline []byte, dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return false
	}
	for _, arg := range strings.Split(string(cmdline), "\x00") {
		for rest := arg; ; {
			i := strings.Index(rest, dir)
			if i < 0 {
				break
			}
			rest = rest[i+len(dir):]
			if rest == "" || rest[0] == '/' {
				return true
			}
		}
	}
	return false
}

// runtimeProcs lists the processes of the containerd whose files live in
// dir and of its shims.
func runtimeProcs(dir string) (containerd, shims []int) {
	for _, pid := range processesMentioning(dir) {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		switch classify(cmdline, dir) {
		case kindContainerd:
			containerd = append(containerd, pid)
		case kindShim:
			shims = append(shims, pid)
		}
	}
	return containerd, shims
}

// processesMentioning lists the live processes other than this one with
// an argument naming dir or a path below it.
func processesMentioning(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 || !mentionsDir(cmdline, dir) {
			continue // exited, a kernel thread or a zombie
		}
		pids = append(pids, pid)
	}
	return pids
}

// medianMem is the sample with the median RSS (the lower middle one for
// an even count): a Go process's RSS moves with its garbage collector,
// so one reading can be off by tens of MB. Zero for no samples.
func medianMem(samples []Mem) Mem {
	if len(samples) == 0 {
		return Mem{}
	}
	s := slices.Clone(samples)
	slices.SortFunc(s, func(a, b Mem) int { return cmp.Compare(a.RSS, b.RSS) })
	return s[(len(s)-1)/2]
}

// sampleMem reads n samples, interval apart, and returns their median
// by RSS (read is called once per sample).
func sampleMem(ctx context.Context, n int, interval time.Duration, read func() Mem) Mem {
	var samples []Mem
	for i := range n {
		if i > 0 && sleepCtx(ctx, interval) != nil {
			break
		}
		samples = append(samples, read())
	}
	return medianMem(samples)
}
