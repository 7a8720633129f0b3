package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ProcMem is a process's memory as /proc/<pid>/status reports it, in bytes.
type ProcMem struct {
	VmRSS   int64 // resident set size now
	VmHWM   int64 // peak resident set size
	RssAnon int64 // resident anonymous memory (heap, stacks)
	RssFile int64 // resident file mappings (binary text, mmapped bbolt db)
}

// ParseProcStatus reads the memory fields of a /proc/<pid>/status file.
// VmRSS is required; the other fields are filled when present. Values are
// given by the kernel in kB (KiB).
func ParseProcStatus(r io.Reader) (ProcMem, error) {
	var m ProcMem
	found := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.VmRSS
		case "VmHWM":
			dst = &m.VmHWM
		case "RssAnon":
			dst = &m.RssAnon
		case "RssFile":
			dst = &m.RssFile
		default:
			continue
		}
		n, err := parseKB(val)
		if err != nil {
			return ProcMem{}, fmt.Errorf("%s: %w", key, err)
		}
		*dst = n
		if key == "VmRSS" {
			found = true
		}
	}
	if err := sc.Err(); err != nil {
		return ProcMem{}, err
	}
	if !found {
		return ProcMem{}, fmt.Errorf("no VmRSS line (kernel thread or exited process?)")
	}
	return m, nil
}

// parseKB parses "   74736 kB" into bytes.
func parseKB(s string) (int64, error) {
	f := strings.Fields(s)
	if len(f) != 2 || f[1] != "kB" {
		return 0, fmt.Errorf("unexpected value %q, want \"<n> kB\"", strings.TrimSpace(s))
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("unexpected value %q", strings.TrimSpace(s))
	}
	return n * 1024, nil
}

// ReadProcMem reads /proc/<pid>/status.
func ReadProcMem(pid int) (ProcMem, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcMem{}, err
	}
	defer f.Close()
	return ParseProcStatus(f)
}

// MB formats a byte count in decimal megabytes ("74.6 MB"), the unit the
// targets are given in (the conservative reading: 100 MB < 100 MiB).
func MB(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
