package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// modulePath is the Go module the image programs live in.
const modulePath = "github.com/skiff-io/skiff"

// programs are the image programs built from source, by binary name.
func programs() []string { return []string{"pause", "echo"} }

// buildBinaries builds every program (images/<name>) as a static linux
// binary for arch into dir with one go build invocation, and returns their
// contents by name.
func buildBinaries(ctx context.Context, goCmd, arch, dir string) (map[string][]byte, error) {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w", "-o", dir + string(filepath.Separator)}
	for _, p := range programs() {
		args = append(args, modulePath+"/images/"+p)
	}
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %v (run it inside the %s module): %w\n%s", goCmd, args, modulePath, err, out.Bytes())
	}
	bins := make(map[string][]byte, len(programs()))
	for _, p := range programs() {
		data, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			return nil, fmt.Errorf("reading built %s: %w", p, err)
		}
		if err := checkStatic(data); err != nil {
			return nil, fmt.Errorf("built %s: %w", p, err)
		}
		bins[p] = data
	}
	return bins, nil
}
