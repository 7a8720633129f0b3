package agent

import (
	"testing"

	"k8s.io/client-go/rest"

	"github.com/skiff-io/skiff/internal/agent/overlay"
)

func TestNewOverlayMode(t *testing.T) {
	tests := []struct {
		in      overlay.Mode
		want    overlay.Mode
		wantErr bool
	}{
		{"", overlay.ModeVXLAN, false},
		{overlay.ModeVXLAN, overlay.ModeVXLAN, false},
		{overlay.ModeHostGW, overlay.ModeHostGW, false},
		{overlay.ModeNone, overlay.ModeNone, false},
		{"ipip", "", true},
	}
	for _, tt := range tests {
		a, err := New(Config{DataDir: t.TempDir(), NodeName: "n", RestConfig: &rest.Config{Host: "https://192.0.2.1:6443"}, OverlayMode: tt.in})
		if (err != nil) != tt.wantErr {
			t.Errorf("New(OverlayMode %q): err %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && a.cfg.OverlayMode != tt.want {
			t.Errorf("New(OverlayMode %q): mode %q, want %q", tt.in, a.cfg.OverlayMode, tt.want)
		}
	}
}
