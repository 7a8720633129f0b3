// Package version reports the Kubernetes API level Skiff implements and
// Skiff's own version.
package version

import (
	"fmt"
	"runtime"

	apiversion "k8s.io/apimachinery/pkg/version"
)

// Kubernetes is the release whose API Skiff serves, Skiff its own release.
// GitCommit may be set at build time with -ldflags -X.
const (
	Kubernetes = "v1.37.2"
	Skiff      = "0.1.0"
)

// GitCommit is the commit the binary was built from, if known.
var GitCommit = ""

// String is the version Skiff reports, e.g. "v1.37.2+skiff.0.1.0".
func String() string { return Kubernetes + "+skiff." + Skiff }

// Info is the /version document.
func Info() apiversion.Info {
	var major, minor int
	_, _ = fmt.Sscanf(Kubernetes, "v%d.%d", &major, &minor)
	maj, min := fmt.Sprint(major), fmt.Sprint(minor)
	return apiversion.Info{
		Major: maj, Minor: min, GitVersion: String(), GitCommit: GitCommit, GitTreeState: "clean",
		GoVersion: runtime.Version(), Compiler: runtime.Compiler, Platform: runtime.GOOS + "/" + runtime.GOARCH,
		EmulationMajor: maj, EmulationMinor: min, MinCompatibilityMajor: maj, MinCompatibilityMinor: min,
	}
}
