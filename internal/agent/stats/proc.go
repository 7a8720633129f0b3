package stats

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the tick counts in /proc/stat (USER_HZ, 100 on every
// Linux architecture the agent runs on).
const userHZ = 100

// NodeSample is one reading of the node's CPU and memory counters.
type NodeSample struct {
	Time time.Time
	// CPUUsageCoreNanoSeconds is the cumulative non-idle CPU time of all
	// cores.
	CPUUsageCoreNanoSeconds uint64
	Memory                  NodeMemory
}

// NodeMemory holds the /proc/meminfo values the summary needs, in bytes.
type NodeMemory struct {
	Total        uint64
	Free         uint64
	InactiveFile uint64
	AnonPages    uint64
}

// UsageBytes is memory in use, page cache included (total minus free).
func (m NodeMemory) UsageBytes() uint64 { return sub(m.Total, m.Free) }

// WorkingSetBytes is usage minus inactive file pages, the figure eviction
// and metrics-server use.
func (m NodeMemory) WorkingSetBytes() uint64 { return sub(m.UsageBytes(), m.InactiveFile) }

// AvailableBytes is total memory minus the working set.
func (m NodeMemory) AvailableBytes() uint64 { return sub(m.Total, m.WorkingSetBytes()) }

// sub is a-b, or 0 when b exceeds a.
func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// ParseProcStat returns the cumulative non-idle CPU time of all cores, in
// nanoseconds, from the aggregate "cpu" line of /proc/stat: user, nice,
// system, irq, softirq and steal (guest time is already part of user).
func ParseProcStat(data []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "cpu" {
			continue
		}
		if len(fields) < 9 {
			return 0, fmt.Errorf("/proc/stat cpu line has %d fields, want at least 9", len(fields))
		}
		var ticks uint64
		// Columns: user nice system idle iowait irq softirq steal ...
		for _, col := range []int{1, 2, 3, 6, 7, 8} {
			v, err := strconv.ParseUint(fields[col], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/stat cpu column %d: %w", col, err)
			}
			ticks += v
		}
		return ticks * (uint64(time.Second) / userHZ), nil
	}
	return 0, errors.New("/proc/stat has no aggregate cpu line")
}

// ParseMeminfo extracts the node's memory figures from /proc/meminfo.
func ParseMeminfo(data []byte) (NodeMemory, error) {
	var m NodeMemory
	fields := map[string]*uint64{
		"MemTotal": &m.Total, "MemFree": &m.Free, "Inactive(file)": &m.InactiveFile, "AnonPages": &m.AnonPages,
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		parts := strings.Fields(rest)
		if len(parts) == 0 {
			return m, fmt.Errorf("/proc/meminfo %s has no value", name)
		}
		v, err := strconv.ParseUint(parts[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("/proc/meminfo %s: %w", name, err)
		}
		if len(parts) > 1 && parts[1] == "kB" {
			v *= 1024
		}
		*dst = v
	}
	if m.Total == 0 {
		return m, errors.New("/proc/meminfo has no MemTotal")
	}
	return m, nil
}

// ReadNode reads a NodeSample from the proc filesystem mounted at procDir
// (normally "/proc"), stamped with now.
func ReadNode(procDir string, now time.Time) (NodeSample, error) {
	stat, err := os.ReadFile(filepath.Join(procDir, "stat"))
	if err != nil {
		return NodeSample{}, fmt.Errorf("read node cpu: %w", err)
	}
	cpu, err := ParseProcStat(stat)
	if err != nil {
		return NodeSample{}, err
	}
	meminfo, err := os.ReadFile(filepath.Join(procDir, "meminfo"))
	if err != nil {
		return NodeSample{}, fmt.Errorf("read node memory: %w", err)
	}
	mem, err := ParseMeminfo(meminfo)
	if err != nil {
		return NodeSample{}, err
	}
	return NodeSample{Time: now, CPUUsageCoreNanoSeconds: cpu, Memory: mem}, nil
}
