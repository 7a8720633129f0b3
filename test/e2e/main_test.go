// Package e2e drives the real kubectl against Skiff: `skiff server` started
// as a process (and, for some scenarios, the in-process test server), with
// assertions on what kubectl prints and its exit code, as a user sees them.
//
// Run with `go test ./test/e2e/`. kubectl must be on PATH; without it the
// suite is skipped (set SKIFF_E2E_REQUIRE_KUBECTL=1 to make that a failure).
// The workload scenarios (TestWorkloads, TestNodes) play their nodes with
// `skiff simulate`, or with kwok when SKIFF_E2E_NODES=kwok (`make e2e-kwok`).
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// wantVersion is the version Skiff reports: the Kubernetes API level it
// implements and Skiff's own release.
const wantVersion = "v1.37.2+skiff.0.1.0"

var (
	// skiffBinary is the skiff binary TestMain built for this run.
	skiffBinary string
	// kubectlPath is the kubectl found on PATH ("" when there is none).
	kubectlPath string
	// setupErr, when set, fails every test that needs the binary.
	setupErr error
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	kubectlPath, _ = exec.LookPath("kubectl")
	dir, err := os.MkdirTemp("", "skiff-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	skiffBinary, setupErr = buildSkiff(dir)
	return m.Run()
}

// buildSkiff builds ./cmd/skiff from the module root into dir.
func buildSkiff(dir string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "" || root == "." {
		return "", fmt.Errorf("not inside the skiff module (go env GOMOD = %q)", gomod)
	}
	bin := filepath.Join(dir, "skiff")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/skiff")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/skiff: %v\n%s", err, out.String())
	}
	return bin, nil
}

// requireBinary fails the test when the skiff binary could not be built.
func requireBinary(t testing.TB) {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("building skiff: %v", setupErr)
	}
}

// requireKubectl skips the test when kubectl is missing (hack/install-deps.sh
// documents that the end-to-end tests need it), unless the environment
// demands it.
func requireKubectl(t testing.TB) {
	t.Helper()
	if kubectlPath != "" {
		return
	}
	if os.Getenv("SKIFF_E2E_REQUIRE_KUBECTL") != "" {
		t.Fatal("kubectl is not on PATH")
	}
	t.Skip("kubectl is not on PATH")
}
