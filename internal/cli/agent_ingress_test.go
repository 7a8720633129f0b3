package cli

import "testing"

func TestAgentIngressAddr(t *testing.T) {
	for _, tc := range []struct {
		name        string
		http, https int
		want        string
		wantErr     bool
	}{
		{"default", 80, 0, ":80", false},
		{"other port", 8080, 0, ":8080", false},
		{"https refused", 80, 443, "", true},
		{"no http port", 0, 0, "", true},
		{"out of range", 70000, 0, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := agentIngressAddr(tc.http, tc.https)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("agentIngressAddr(%d, %d) = %q, %v; want %q, error %v", tc.http, tc.https, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
