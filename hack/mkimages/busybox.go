package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/skiff-io/skiff/internal/ociimage"
)

// busyboxPackage is the Debian package providing a static /bin/busybox.
const busyboxPackage = "busybox-static"

// busybox is the host busybox to package: its binary and its applet names.
type busybox struct {
	binary  []byte
	applets []string
}

// readBusybox reads the static busybox at path and asks it for its applets.
func readBusybox(ctx context.Context, path string) (busybox, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return busybox{}, fmt.Errorf("%s not found: install the Debian package %s (apt-get install %s): %w",
			path, busyboxPackage, busyboxPackage, err)
	}
	if err != nil {
		return busybox{}, fmt.Errorf("reading busybox: %w", err)
	}
	if err := checkStatic(data); err != nil {
		return busybox{}, fmt.Errorf("%s: %w; install the Debian package %s", path, err, busyboxPackage)
	}
	out, err := exec.CommandContext(ctx, path, "--list").Output()
	if err != nil {
		return busybox{}, fmt.Errorf("%s --list: %w", path, err)
	}
	applets, err := parseApplets(out)
	if err != nil {
		return busybox{}, fmt.Errorf("%s --list: %w", path, err)
	}
	return busybox{binary: data, applets: applets}, nil
}

// parseApplets reads `busybox --list` output, one applet name per line, and
// returns the names sorted and de-duplicated, without "busybox" itself.
// Names must be single path elements; none at all is an error.
func parseApplets(list []byte) ([]string, error) {
	var applets []string
	sc := bufio.NewScanner(bytes.NewReader(list))
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		switch {
		case name == "" || name == "busybox":
			continue
		case name == "." || name == ".." || strings.ContainsAny(name, "/ \t\x00"):
			return nil, fmt.Errorf("invalid applet name %q", name)
		}
		applets = append(applets, name)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading applet list: %w", err)
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("no applets listed")
	}
	slices.Sort(applets)
	return slices.Compact(applets), nil
}

// appletLinks returns one /bin/<applet> symbolic link to busybox per
// applet.
func appletLinks(applets []string) []ociimage.File {
	links := make([]ociimage.File, 0, len(applets))
	for _, a := range applets {
		links = append(links, ociimage.File{Path: "/bin/" + a, Link: "busybox"})
	}
	return links
}

// checkStatic fails unless data is an ELF executable without a program
// interpreter, i.e. one that runs in an otherwise empty image.
func checkStatic(data []byte) error {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not an ELF executable: %w", err)
	}
	defer func() { _ = f.Close() }()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("dynamically linked (has a program interpreter), need a static binary")
		}
	}
	return nil
}
