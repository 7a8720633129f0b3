package main

import (
	"io/fs"

	"github.com/skiff-io/skiff/internal/ociimage"
)

// Image references mkimages produces.
const (
	pauseRef   = "skiff.local/pause:1.0"
	busyboxRef = "skiff.local/busybox:1.36"
	echoRepo   = "skiff.local/echo"
)

// echoVersions are the tags of the echo image; each sets VERSION to its tag.
func echoVersions() []string { return []string{"1.0", "2.0"} }

// defaultPath is the PATH the images set.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// archive is one output file and the images it holds.
type archive struct {
	name   string
	images []ociimage.Image
}

// plan lays out the archives from the built binaries (by program name), the
// host busybox and the host kubectl; kubectl.tar is left out when kubectl is
// nil.
func plan(bins map[string][]byte, bb busybox, kubectl []byte, arch string) []archive {
	archives := []archive{
		{name: "pause.tar", images: []ociimage.Image{pauseImage(bins["pause"], arch)}},
		{name: "busybox.tar", images: []ociimage.Image{busyboxImage(bb, arch)}},
		{name: "echo.tar", images: echoImages(bins["echo"], arch)},
	}
	if kubectl != nil {
		archives = append(archives, archive{name: "kubectl.tar", images: []ociimage.Image{kubectlImage(bb, kubectl, arch)}})
	}
	return archives
}

// pauseImage holds only /pause, run as the unprivileged 65535:65535 like
// the Kubernetes pause image.
func pauseImage(bin []byte, arch string) ociimage.Image {
	return ociimage.Image{
		Ref:          pauseRef,
		Architecture: arch,
		Files:        []ociimage.File{{Path: "/pause", Mode: 0o755, Data: bin}},
		Config: ociimage.Config{
			Entrypoint: []string{"/pause"},
			User:       "65535:65535",
		},
	}
}

// busyboxImage is a minimal Linux userland: busybox, its applet links in
// /bin, users root and nobody, and the usual empty directories.
func busyboxImage(bb busybox, arch string) ociimage.Image {
	files := []ociimage.File{
		{Path: "/bin/busybox", Mode: 0o755, Data: bb.binary},
		{Path: "/etc/passwd", Data: []byte(passwd)},
		{Path: "/etc/group", Data: []byte(group)},
		{Path: "/etc/hosts"},
		{Path: "/tmp", Dir: true, Mode: fs.ModeSticky | 0o777},
		{Path: "/root", Dir: true, Mode: 0o700},
		{Path: "/home", Dir: true},
		{Path: "/var", Dir: true},
		{Path: "/proc", Dir: true},
		{Path: "/sys", Dir: true},
		{Path: "/dev", Dir: true},
	}
	return ociimage.Image{
		Ref:          busyboxRef,
		Architecture: arch,
		Files:        append(files, appletLinks(bb.applets)...),
		Config: ociimage.Config{
			Cmd: []string{"sh"},
			Env: []string{defaultPath},
		},
	}
}

// echoImages are the echo server images, one per version, sharing a layer.
func echoImages(bin []byte, arch string) []ociimage.Image {
	files := []ociimage.File{
		{Path: "/echo", Mode: 0o755, Data: bin},
		{Path: "/etc/passwd", Data: []byte(passwd)},
		{Path: "/tmp", Dir: true, Mode: fs.ModeSticky | 0o777},
	}
	imgs := make([]ociimage.Image, 0, len(echoVersions()))
	for _, v := range echoVersions() {
		imgs = append(imgs, ociimage.Image{
			Ref:          echoRepo + ":" + v,
			Architecture: arch,
			Files:        files,
			Config: ociimage.Config{
				Entrypoint:   []string{"/echo"},
				Env:          []string{defaultPath, "VERSION=" + v},
				ExposedPorts: []string{"8080/tcp"},
			},
		})
	}
	return imgs
}

// passwd and group define root and nobody.
const (
	passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	group  = "root:x:0:\nnobody:x:65534:\n"
)
