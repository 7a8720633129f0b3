package ociimage

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// File is one entry of an image's root filesystem. Exactly one kind applies:
// a directory (Dir true), a symbolic link (Link non-empty, the link target,
// stored verbatim) or a regular file holding Data.
//
// Path is slash-separated and taken relative to the root; a leading "/" is
// optional ("/bin/sh" and "bin/sh" are the same entry). Mode carries the
// permission bits plus fs.ModeSetuid, fs.ModeSetgid and fs.ModeSticky; other
// type bits are ignored. A zero Mode means 0644 for files, 0755 for
// directories and 0777 for links. All entries are owned by uid 0, gid 0.
type File struct {
	Path string
	Mode fs.FileMode
	Data []byte
	Link string
	Dir  bool
}

// Config is the runtime configuration recorded in an image config, with the
// meaning Docker and the OCI image spec give these fields.
type Config struct {
	// User is "user", "uid", "user:group" or "uid:gid"; empty means root.
	User string
	// ExposedPorts are "port/proto" strings such as "8080/tcp".
	ExposedPorts []string
	// Env entries are "NAME=value".
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
	Labels     map[string]string
	StopSignal string
}

// Image is one image of an archive: its full reference, its root filesystem
// (a single layer) and its config. Architecture defaults to
// DefaultArchitecture; the OS is always linux.
type Image struct {
	Ref          string
	Architecture string
	Files        []File
	Config       Config
}

// Permission and special bits kept from a File's Mode.
const modeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// validateRef accepts references of the form [host/]path:tag, optionally
// followed by @digest; it rejects what containerd cannot name an image by.
func validateRef(ref string) error {
	if ref == "" {
		return fmt.Errorf("image reference is empty")
	}
	if strings.ContainsAny(ref, " \t\r\n") {
		return fmt.Errorf("image reference %q contains white space", ref)
	}
	name, _, _ := strings.Cut(ref, "@")
	slash := strings.LastIndex(name, "/")
	colon := strings.LastIndex(name, ":")
	if colon <= slash || colon == len(name)-1 {
		return fmt.Errorf("image reference %q has no tag", ref)
	}
	if name[:colon] != strings.ToLower(name[:colon]) {
		return fmt.Errorf("image reference %q: repository must be lower case", ref)
	}
	return nil
}

// cleanPath turns a File path into the relative, cleaned form used inside the
// layer tar ("bin/sh"), rejecting the root itself and paths leaving it.
func cleanPath(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("empty path")
	}
	if slices.Contains(strings.Split(p, "/"), "..") {
		return "", fmt.Errorf("path %q contains '..'", p)
	}
	c := path.Clean("/" + p)
	if c == "/" {
		return "", fmt.Errorf("path %q names the root directory", p)
	}
	return c[1:], nil
}

// normalizeFiles validates files and returns them in layer order: paths
// cleaned (relative), default modes filled in, missing parent directories
// added with mode 0755, sorted by path so parents precede children.
func normalizeFiles(files []File) ([]File, error) {
	byPath := make(map[string]File, len(files))
	for _, f := range files {
		p, err := cleanPath(f.Path)
		if err != nil {
			return nil, err
		}
		if err := checkKind(f); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("%s: listed twice", p)
		}
		f.Path = p
		f.Mode = defaultMode(f)
		byPath[p] = f
	}
	for p := range byPath {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			parent, ok := byPath[dir]
			if !ok {
				byPath[dir] = File{Path: dir, Dir: true, Mode: 0o755}
				continue
			}
			if !parent.Dir {
				return nil, fmt.Errorf("%s: parent %s is not a directory", p, dir)
			}
		}
	}
	out := make([]File, 0, len(byPath))
	for _, f := range byPath {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// checkKind rejects files that claim more than one kind.
func checkKind(f File) error {
	switch {
	case f.Dir && f.Link != "":
		return fmt.Errorf("both a directory and a symbolic link")
	case f.Dir && len(f.Data) > 0:
		return fmt.Errorf("a directory cannot have data")
	case f.Link != "" && len(f.Data) > 0:
		return fmt.Errorf("a symbolic link cannot have data")
	}
	return nil
}

// defaultMode keeps the permission and special bits of f.Mode, or supplies
// the default for f's kind when there are none.
func defaultMode(f File) fs.FileMode {
	if m := f.Mode & modeBits; m != 0 {
		return m
	}
	switch {
	case f.Dir:
		return 0o755
	case f.Link != "":
		return 0o777
	default:
		return 0o644
	}
}
