package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/skiff-io/skiff/internal/ociimage"
)

// kubectlRef is the image e2e tests run kubectl in; like busybox its tag
// stays fixed whatever kubectl release the host ships.
const kubectlRef = "skiff.local/kubectl:1.32"

// kubectlPath is where the kubectl image holds the binary (on PATH).
const kubectlPath = "/usr/local/bin/kubectl"

// readKubectl reads the host's kubectl: spec is a path or a command name
// looked up in PATH; symbolic links are resolved so that the real binary is
// packaged. It must be statically linked (the release builds are) to run
// in the busybox-based image.
func readKubectl(spec string) ([]byte, error) {
	found, err := exec.LookPath(spec)
	if err != nil {
		return nil, fmt.Errorf("finding kubectl: %w", err)
	}
	real, err := filepath.EvalSymlinks(found)
	if err != nil {
		return nil, fmt.Errorf("resolving kubectl %s: %w", found, err)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return nil, fmt.Errorf("reading kubectl: %w", err)
	}
	if err := checkStatic(data); err != nil {
		return nil, fmt.Errorf("kubectl %s: %w", real, err)
	}
	return data, nil
}

// kubectlImage is the busybox image plus kubectl at kubectlPath, so that
// test pods can script kubectl with a shell.
func kubectlImage(bb busybox, kubectl []byte, arch string) ociimage.Image {
	img := busyboxImage(bb, arch)
	img.Ref = kubectlRef
	img.Files = append(img.Files, ociimage.File{Path: kubectlPath, Mode: 0o755, Data: kubectl})
	return img
}
