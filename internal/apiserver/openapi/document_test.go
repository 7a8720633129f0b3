package openapi

import "testing"

func TestEtagMatches(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{`"ABC"`, true},
		{`W/"ABC"`, true},
		{`"X", "ABC"`, true},
		{`*`, true},
		{`"ABCD"`, false},
		{`ABC`, false},
	}
	for _, tt := range tests {
		if got := etagMatches(tt.header, "ABC"); got != tt.want {
			t.Errorf("etagMatches(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"deflate, gzip;q=0.5", true},
		{"GZIP", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"*", true},
		{"gzip;q=0, *", false},
		{"br", false},
		{"identity, *;q=0", false},
	}
	for _, tt := range tests {
		if got := acceptsGzip(tt.header); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   string
	}{
		{"", "json"},
		{"*/*", "json"},
		{"application/*", "json"},
		{"application/json", "json"},
		{"application/" + protoV2Deprecated, protoV2},
		{"application/" + protoV2, protoV2},
		{"application/" + protoV2 + ", application/json", protoV2},
		{"application/json;q=0.1, application/" + protoV2, protoV2},
		{"application/" + protoV3, ""},
		{"text/plain", ""},
		{"application/json;q=0", ""},
	}
	for _, tt := range tests {
		if got := negotiate(tt.accept, protoV2, protoV2Deprecated); got != tt.want {
			t.Errorf("negotiate(%q) = %q, want %q", tt.accept, got, tt.want)
		}
	}
}
