package ingress

import (
	"context"
	"testing"

	"github.com/skiff-io/skiff/internal/server"
)

func TestOptionsAddrs(t *testing.T) {
	tests := []struct {
		opts            Options
		http, httpsAddr string
	}{
		{Options{}, ":80", ":443"},
		{Options{HTTPPort: 8080, HTTPSPort: 8443}, ":8080", ":8443"},
		{Options{BindAddress: "198.18.0.1", HTTPPort: 81}, "198.18.0.1:81", "198.18.0.1:443"},
		{Options{BindAddress: "::1"}, "[::1]:80", "[::1]:443"},
	}
	for _, tt := range tests {
		h, s := tt.opts.addrs()
		if h != tt.http || s != tt.httpsAddr {
			t.Errorf("%+v: %s %s, want %s %s", tt.opts, h, s, tt.http, tt.httpsAddr)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		opts Options
		ok   bool
	}{
		{Options{}, true},
		{Options{HTTPPort: 8080, HTTPSPort: 8443}, true},
		{Options{HTTPPort: -1}, false},
		{Options{HTTPSPort: 65536}, false},
		{Options{HTTPPort: 8080, HTTPSPort: 8080}, false},
		{Options{HTTPPort: 443}, false},
	}
	for _, tt := range tests {
		if err := tt.opts.validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: validate = %v, want ok %v", tt.opts, err, tt.ok)
		}
	}
	// Component refuses them before it needs an API connection.
	if err := Component(Options{HTTPPort: 70000}).Run(context.Background(), server.Env{}); err == nil {
		t.Error("Component ran with --ingress-http-port 70000")
	}
}
