package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/skiff-io/skiff/internal/ociimage"
)

func TestParseApplets(t *testing.T) {
	tests := []struct {
		name    string
		list    string
		want    []string
		wantErr string
	}{
		{
			name: "sorted, deduplicated, busybox and blank lines dropped",
			list: "sh\nls\n\n[\n[[\nbusybox\nls\n  cat  \n",
			want: []string{"[", "[[", "cat", "ls", "sh"},
		},
		{name: "no trailing newline", list: "true", want: []string{"true"}},
		{name: "empty", list: "", wantErr: "no applets"},
		{name: "only busybox", list: "busybox\n", wantErr: "no applets"},
		{name: "path", list: "sh\nusr/bin/env\n", wantErr: "invalid applet name"},
		{name: "dot dot", list: "..\n", wantErr: "invalid applet name"},
		{name: "inner space", list: "a b\n", wantErr: "invalid applet name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseApplets([]byte(tt.list))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseApplets mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppletLinks(t *testing.T) {
	got := appletLinks([]string{"[", "sh"})
	want := []ociimage.File{{Path: "/bin/[", Link: "busybox"}, {Path: "/bin/sh", Link: "busybox"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("appletLinks mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckStatic(t *testing.T) {
	if err := checkStatic([]byte("#!/bin/sh\n")); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("checkStatic(script) = %v, want a not-ELF error", err)
	}
	// The test binary itself is a Go binary; whether it is static depends
	// on cgo, so only check host binaries whose linkage is known.
	for _, c := range []struct {
		path   string
		static bool
	}{{"/bin/busybox", true}, {"/bin/ls", false}} {
		data, err := os.ReadFile(c.path)
		if err != nil {
			t.Logf("skipping %s: %v", c.path, err)
			continue
		}
		err = checkStatic(data)
		if c.static != (err == nil) {
			t.Errorf("checkStatic(%s) = %v, want static=%v", c.path, err, c.static)
		}
	}
}

func TestReadBusyboxMissingNamesPackage(t *testing.T) {
	_, err := readBusybox(context.Background(), filepath.Join(t.TempDir(), "busybox"))
	if err == nil || !strings.Contains(err.Error(), "busybox-static") {
		t.Fatalf("error %v, want one naming the busybox-static package", err)
	}
}

func TestPlan(t *testing.T) {
	bins := map[string][]byte{"pause": []byte("PAUSE"), "echo": []byte("ECHO")}
	bb := busybox{binary: []byte("BUSYBOX"), applets: []string{"ls", "sh"}}
	archives := plan(bins, bb, []byte("KUBECTL"), "amd64")

	refs := map[string][]string{}
	images := map[string]ociimage.Image{}
	for _, a := range archives {
		var buf bytes.Buffer
		if err := ociimage.Write(&buf, a.images...); err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		read, err := ociimage.Read(&buf)
		if err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		for _, img := range read {
			refs[a.name] = append(refs[a.name], img.Ref)
			images[img.Ref] = img
		}
	}
	wantRefs := map[string][]string{
		"pause.tar":   {"skiff.local/pause:1.0"},
		"busybox.tar": {"skiff.local/busybox:1.36"},
		"echo.tar":    {"skiff.local/echo:1.0", "skiff.local/echo:2.0"},
		"kubectl.tar": {"skiff.local/kubectl:1.32"},
	}
	if diff := cmp.Diff(wantRefs, refs); diff != "" {
		t.Fatalf("archive refs mismatch (-want +got):\n%s", diff)
	}

	tests := []struct {
		ref        string
		wantConfig ociimage.Config
		wantFiles  map[string]string // path -> "data:<content>", "link:<target>" or "dir:<mode>"
	}{
		{
			ref:        "skiff.local/pause:1.0",
			wantConfig: ociimage.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"},
			wantFiles:  map[string]string{"pause": "data:PAUSE"},
		},
		{
			ref:        "skiff.local/busybox:1.36",
			wantConfig: ociimage.Config{Cmd: []string{"sh"}, Env: []string{defaultPath}},
			wantFiles: map[string]string{
				"bin":         "dir:-rwxr-xr-x",
				"bin/busybox": "data:BUSYBOX",
				"bin/ls":      "link:busybox",
				"bin/sh":      "link:busybox",
				"etc":         "dir:-rwxr-xr-x",
				"etc/group":   "data:" + group,
				"etc/hosts":   "data:",
				"etc/passwd":  "data:" + passwd,
				"tmp":         "dir:trwxrwxrwx",
				"root":        "dir:-rwx------",
				"home":        "dir:-rwxr-xr-x",
				"var":         "dir:-rwxr-xr-x",
				"proc":        "dir:-rwxr-xr-x",
				"sys":         "dir:-rwxr-xr-x",
				"dev":         "dir:-rwxr-xr-x",
			},
		},
	}
	kubectlFiles := map[string]string{
		"usr":                   "dir:-rwxr-xr-x",
		"usr/local":             "dir:-rwxr-xr-x",
		"usr/local/bin":         "dir:-rwxr-xr-x",
		"usr/local/bin/kubectl": "data:KUBECTL",
	}
	for path, want := range tests[1].wantFiles {
		kubectlFiles[path] = want
	}
	tests = append(tests, struct {
		ref        string
		wantConfig ociimage.Config
		wantFiles  map[string]string
	}{ref: "skiff.local/kubectl:1.32", wantConfig: tests[1].wantConfig, wantFiles: kubectlFiles})
	for _, v := range []string{"1.0", "2.0"} {
		tests = append(tests, struct {
			ref        string
			wantConfig ociimage.Config
			wantFiles  map[string]string
		}{
			ref: "skiff.local/echo:" + v,
			wantConfig: ociimage.Config{
				Entrypoint:   []string{"/echo"},
				Env:          []string{defaultPath, "VERSION=" + v},
				ExposedPorts: []string{"8080/tcp"},
			},
			wantFiles: map[string]string{
				"echo":       "data:ECHO",
				"etc":        "dir:-rwxr-xr-x",
				"etc/passwd": "data:" + passwd,
				"tmp":        "dir:trwxrwxrwx",
			},
		})
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			img := images[tt.ref]
			if img.Architecture != "amd64" {
				t.Errorf("architecture %q, want amd64", img.Architecture)
			}
			if diff := cmp.Diff(tt.wantConfig, img.Config); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
			got := map[string]string{}
			for _, f := range img.Files {
				got[f.Path] = describe(f)
			}
			if diff := cmp.Diff(tt.wantFiles, got); diff != "" {
				t.Errorf("files mismatch (-want +got):\n%s", diff)
			}
			for _, f := range img.Files {
				if !f.Dir && f.Link == "" && slices.Contains([]string{"pause", "echo", "bin/busybox", "usr/local/bin/kubectl"}, f.Path) && f.Mode != 0o755 {
					t.Errorf("%s has mode %v, want 0755", f.Path, f.Mode)
				}
			}
		})
	}
}

// describe summarizes a file for comparison.
func describe(f ociimage.File) string {
	switch {
	case f.Dir:
		return "dir:" + (f.Mode & (fs.ModePerm | fs.ModeSticky)).String()
	case f.Link != "":
		return "link:" + f.Link
	default:
		return "data:" + string(f.Data)
	}
}

func TestPlanWithoutKubectl(t *testing.T) {
	bb := busybox{binary: []byte("BUSYBOX"), applets: []string{"sh"}}
	var names []string
	for _, a := range plan(map[string][]byte{"pause": nil, "echo": nil}, bb, nil, "amd64") {
		names = append(names, a.name)
	}
	if want := []string{"pause.tar", "busybox.tar", "echo.tar"}; !slices.Equal(names, want) {
		t.Errorf("archives %v, want %v", names, want)
	}
}

func TestKubectlArchiveIsDeterministic(t *testing.T) {
	bb := busybox{binary: []byte("BUSYBOX"), applets: []string{"ls", "sh"}}
	write := func() []byte {
		var buf bytes.Buffer
		if err := ociimage.Write(&buf, kubectlImage(bb, []byte("KUBECTL"), "amd64")); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if !bytes.Equal(write(), write()) {
		t.Error("two writes of the kubectl image differ")
	}
}

func TestReadKubectl(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script-kubectl")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A static ELF stands in for kubectl when the host has busybox-static.
	static := ""
	if _, err := os.Stat("/bin/busybox"); err == nil {
		static = filepath.Join(dir, "real-kubectl")
		data, err := os.ReadFile("/bin/busybox")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(static, data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(static, filepath.Join(dir, "kubectl")); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name    string
		spec    string
		want    string // file whose contents are expected
		wantErr string
	}{
		{name: "missing", spec: filepath.Join(dir, "absent"), wantErr: "finding kubectl"},
		{name: "not an ELF binary", spec: script, wantErr: "not an ELF"},
	}
	if static != "" {
		tests = append(tests, struct {
			name    string
			spec    string
			want    string
			wantErr string
		}{name: "symlink to the static binary", spec: filepath.Join(dir, "kubectl"), want: static},
			struct {
				name    string
				spec    string
				want    string
				wantErr string
			}{name: "command name looked up in PATH", spec: "kubectl", want: static})
		t.Setenv("PATH", dir)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readKubectl(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("readKubectl(%s) returned %d bytes, want the %d of %s", tt.spec, len(got), len(want), tt.want)
			}
		})
	}
}
