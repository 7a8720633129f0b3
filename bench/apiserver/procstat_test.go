package main

import (
	"os"
	"strings"
	"testing"
)

const sampleStatus = `Name:	skiff
Umask:	0022
State:	S (sleeping)
Pid:	20681
VmPeak:	 2541236 kB
VmSize:	 2541236 kB
VmHWM:	  111500 kB
VmRSS:	   74736 kB
RssAnon:	   30100 kB
RssFile:	   44636 kB
RssShmem:	       0 kB
Threads:	14
`

func TestParseProcStatus(t *testing.T) {
	m, err := ParseProcStatus(strings.NewReader(sampleStatus))
	if err != nil {
		t.Fatal(err)
	}
	want := ProcMem{VmRSS: 74736 * 1024, VmHWM: 111500 * 1024, RssAnon: 30100 * 1024, RssFile: 44636 * 1024}
	if m != want {
		t.Errorf("got %+v, want %+v", m, want)
	}
}

func TestParseProcStatusErrors(t *testing.T) {
	tests := map[string]string{
		"no VmRSS (kernel thread)": "Name:\tkthreadd\nState:\tS (sleeping)\n",
		"missing unit":             "VmRSS:\t74736\n",
		"wrong unit":               "VmRSS:\t74736 MB\n",
		"not a number":             "VmRSS:\tlots kB\n",
		"negative":                 "VmRSS:\t-5 kB\n",
		"bad optional field":       "VmRSS:\t1 kB\nVmHWM:\tx kB\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if m, err := ParseProcStatus(strings.NewReader(in)); err == nil {
				t.Errorf("ParseProcStatus(%q) = %+v, want an error", in, m)
			}
		})
	}
}

func TestReadProcMemSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	m, err := ReadProcMem(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.VmRSS <= 0 || m.VmHWM < m.VmRSS {
		t.Errorf("implausible memory of the test process: %+v", m)
	}
}

func TestMB(t *testing.T) {
	if got := MB(74736 * 1024); got != "76.5 MB" {
		t.Errorf("MB = %q, want 76.5 MB", got)
	}
}
