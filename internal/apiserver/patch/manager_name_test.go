package patch

import (
	"strings"
	"testing"
)

func TestDefaultManager(t *testing.T) {
	tests := []struct {
		userAgent string
		want      string
	}{
		{"kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9", "kubectl"},
		{"kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/70d3cc9/system:serviceaccount:kube-system:deployment-controller", "kube-controller-manager"},
		{"Go-http-client/1.1", "Go-http-client"},
		{"curl/8.5.0", "curl"},
		{"no-slash at all", "no-slash at all"},
		{"", ""},
		{"tab\there/1", "tabhere"},
		{strings.Repeat("a", 200) + "/1", strings.Repeat("a", 128)},
		// A rune that does not fit whole is left out rather than cut.
		{strings.Repeat("a", 127) + "é/1", strings.Repeat("a", 127)},
	}
	for _, tt := range tests {
		if got := DefaultManager(tt.userAgent); got != tt.want {
			t.Errorf("DefaultManager(%q) = %q, want %q", tt.userAgent, got, tt.want)
		}
	}
}
