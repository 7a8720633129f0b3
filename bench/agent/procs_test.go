package main

import (
	"strings"
	"testing"
)

const statusText = `Name:	skiff
VmPeak:	 2000000 kB
VmHWM:	  120000 kB
VmRSS:	  100000 kB
RssAnon:	   40000 kB
`

func TestParseMem(t *testing.T) {
	tests := []struct {
		name, status, rollup string
		want                 Mem
		wantErr              string
	}{
		{name: "status and rollup", status: statusText, rollup: "00400000-7ffd rw-p 00000000 00:00 0 [rollup]\nRss: 100000 kB\nPss:   60000 kB\n",
			want: Mem{Procs: 1, RSS: 100000 * 1024, HWM: 120000 * 1024, PSS: 60000 * 1024}},
		{name: "no rollup file", status: statusText, want: Mem{Procs: 1, RSS: 100000 * 1024, HWM: 120000 * 1024}},
		{name: "kernel thread", status: "Name:\tkthreadd\n", wantErr: "no VmRSS"},
		{name: "bad unit", status: "VmRSS:\t12 MB\n", wantErr: "unexpected value"},
		{name: "bad number", status: "VmRSS:\t-3 kB\n", wantErr: "unexpected value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMem(tt.status, tt.rollup)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseMem = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func cmdline(args ...string) []byte { return []byte(strings.Join(args, "\x00") + "\x00") }

func TestClassify(t *testing.T) {
	const dir = "/tmp/skiff-agent-bench-1/server/agent/containerd"
	tests := []struct {
		name string
		cmd  []byte
		want procKind
	}{
		{"our containerd", cmdline("containerd", "--config", dir+"/config.toml"), kindContainerd},
		{"our containerd, absolute path", cmdline("/usr/bin/containerd", "--config", dir+"/config.toml"), kindContainerd},
		{"our shim", cmdline("/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", "abc", "-address", dir+"/containerd.sock"), kindShim},
		{"another containerd", cmdline("containerd", "--config", "/tmp/other/agent/containerd/config.toml"), kindOther},
		{"a sibling dir is not ours", cmdline("containerd", "--config", dir+"-2/config.toml"), kindOther},
		{"the server naming the dir", cmdline("/tmp/x/skiff", "server", "--data-dir", dir), kindOther},
		{"empty (zombie)", nil, kindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.cmd, dir); got != tt.want {
				t.Errorf("classify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMentionsDir(t *testing.T) {
	tests := []struct {
		cmd  []byte
		dir  string
		want bool
	}{
		{cmdline("x", "--data-dir", "/tmp/a"), "/tmp/a", true},
		{cmdline("x", "--data-dir=/tmp/a/b"), "/tmp/a/", true},
		{cmdline("x", "/tmp/ab"), "/tmp/a", false},
		{cmdline("x", "/tmp/ab", "/tmp/a/c"), "/tmp/a", true},
		{cmdline("x", "/tmp/a"), "", false},
	}
	for _, tt := range tests {
		if got := mentionsDir(tt.cmd, tt.dir); got != tt.want {
			t.Errorf("mentionsDir(%q, %q) = %v, want %v", tt.cmd, tt.dir, got, tt.want)
		}
	}
}

func TestMemSum(t *testing.T) {
	got := Mem{Procs: 1, RSS: 10, HWM: 20, PSS: 5}.Add(Mem{Procs: 2, RSS: 1, HWM: 2, PSS: 3})
	if want := (Mem{Procs: 3, RSS: 11, HWM: 22, PSS: 8}); got != want {
		t.Errorf("Add = %+v, want %+v", got, want)
	}
}

func TestMedianMem(t *testing.T) {
	rss := func(v ...int64) []Mem {
		var out []Mem
		for _, x := range v {
			out = append(out, Mem{Procs: 1, RSS: x, PSS: x / 2})
		}
		return out
	}
	tests := []struct {
		name    string
		samples []Mem
		want    Mem
	}{
		{"none", nil, Mem{}},
		{"odd count: the middle one", rss(90, 130, 100), Mem{Procs: 1, RSS: 100, PSS: 50}},
		{"even count: the lower middle one", rss(90, 130, 100, 120), Mem{Procs: 1, RSS: 100, PSS: 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := medianMem(tt.samples); got != tt.want {
				t.Errorf("medianMem = %+v, want %+v", got, tt.want)
			}
		})
	}
}
