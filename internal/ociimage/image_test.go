package ociimage

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestValidateRef(t *testing.T) {
	tests := []struct {
		ref     string
		wantErr string
	}{
		{ref: "skiff.local/pause:1.0"},
		{ref: "skiff.local:5000/a/b:v2"},
		{ref: "busybox:1.36"},
		{ref: "skiff.local/echo:1.0@sha256:0123"},
		{ref: "", wantErr: "empty"},
		{ref: "skiff.local/pause", wantErr: "no tag"},
		{ref: "skiff.local:5000/pause", wantErr: "no tag"},
		{ref: "skiff.local/pause:", wantErr: "no tag"},
		{ref: "skiff.local/pa use:1", wantErr: "white space"},
		{ref: "skiff.local/Pause:1", wantErr: "lower case"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			checkErr(t, validateRef(tt.ref), tt.wantErr)
		})
	}
}

func TestNormalizeFiles(t *testing.T) {
	tests := []struct {
		name    string
		in      []File
		want    []File
		wantErr string
	}{
		{
			name: "adds parents, fills default modes, sorts",
			in: []File{
				{Path: "/usr/bin/tool", Data: []byte("x"), Mode: 0o755},
				{Path: "/bin/sh", Link: "busybox"},
				{Path: "etc/passwd", Data: []byte("root")},
				{Path: "/bin", Dir: true, Mode: 0o700},
			},
			want: []File{
				{Path: "bin", Dir: true, Mode: 0o700},
				{Path: "bin/sh", Link: "busybox", Mode: 0o777},
				{Path: "etc", Dir: true, Mode: 0o755},
				{Path: "etc/passwd", Data: []byte("root"), Mode: 0o644},
				{Path: "usr", Dir: true, Mode: 0o755},
				{Path: "usr/bin", Dir: true, Mode: 0o755},
				{Path: "usr/bin/tool", Data: []byte("x"), Mode: 0o755},
			},
		},
		{
			name: "keeps special bits, drops type bits, cleans paths",
			in: []File{
				{Path: "//tmp/", Dir: true, Mode: fs.ModeDir | fs.ModeSticky | 0o777},
				{Path: "/bin/./su", Data: []byte("su"), Mode: fs.ModeSetuid | 0o755},
			},
			want: []File{
				{Path: "bin", Dir: true, Mode: 0o755},
				{Path: "bin/su", Data: []byte("su"), Mode: fs.ModeSetuid | 0o755},
				{Path: "tmp", Dir: true, Mode: fs.ModeSticky | 0o777},
			},
		},
		{
			name: "sibling with a longer name sorts after the parent",
			in:   []File{{Path: "a-b"}, {Path: "a/b"}},
			want: []File{
				{Path: "a", Dir: true, Mode: 0o755},
				{Path: "a-b", Mode: 0o644},
				{Path: "a/b", Mode: 0o644},
			},
		},
		{name: "empty path", in: []File{{Path: ""}}, wantErr: "empty path"},
		{name: "root", in: []File{{Path: "/", Dir: true}}, wantErr: "root directory"},
		{name: "dot dot", in: []File{{Path: "a/../../etc/x"}}, wantErr: "'..'"},
		{name: "duplicate", in: []File{{Path: "/a"}, {Path: "a"}}, wantErr: "listed twice"},
		{name: "parent is a file", in: []File{{Path: "/a"}, {Path: "/a/b"}}, wantErr: "not a directory"},
		{name: "parent is a link", in: []File{{Path: "/a", Link: "b"}, {Path: "/a/b"}}, wantErr: "not a directory"},
		{name: "dir and link", in: []File{{Path: "/a", Dir: true, Link: "b"}}, wantErr: "both"},
		{name: "dir with data", in: []File{{Path: "/a", Dir: true, Data: []byte("x")}}, wantErr: "directory cannot have data"},
		{name: "link with data", in: []File{{Path: "/a", Link: "b", Data: []byte("x")}}, wantErr: "link cannot have data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizeFiles(tt.in)
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("normalizeFiles() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestModeConversion(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		tar  int64
	}{
		{mode: 0o644, tar: 0o644},
		{mode: fs.ModeSticky | 0o777, tar: 0o1777},
		{mode: fs.ModeSetuid | 0o755, tar: 0o4755},
		{mode: fs.ModeSetgid | 0o750, tar: 0o2750},
	}
	for _, tt := range tests {
		if got := tarMode(tt.mode); got != tt.tar {
			t.Errorf("tarMode(%v) = %o, want %o", tt.mode, got, tt.tar)
		}
		if got := fileMode(tt.tar); got != tt.mode {
			t.Errorf("fileMode(%o) = %v, want %v", tt.tar, got, tt.mode)
		}
	}
}

// checkErr fails t unless err matches want: nil for "", else an error whose
// text contains want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("expected an error containing %q, got none", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}
