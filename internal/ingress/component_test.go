package ingress

import "testing"

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
