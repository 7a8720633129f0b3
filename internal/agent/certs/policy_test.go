package certs

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestReusableAndRenewalTime(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cert := &x509.Certificate{NotBefore: start, NotAfter: start.Add(100 * time.Hour)}
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{
		{-time.Minute, false}, // not yet valid
		{0, true},
		{69 * time.Hour, true},
		{70 * time.Hour, false}, // exactly 30% left
		{99 * time.Hour, false},
		{101 * time.Hour, false}, // expired
	} {
		if got := reusable(cert, start.Add(tc.at)); got != tc.want {
			t.Errorf("reusable at +%v = %v, want %v", tc.at, got, tc.want)
		}
	}
	for _, tc := range []struct {
		r    float64
		want time.Duration
	}{{0, 70 * time.Hour}, {0.5, 80 * time.Hour}, {0.999999, 90 * time.Hour}} {
		if got := renewalTime(cert, tc.r).Sub(start); (got - tc.want).Abs() > time.Second {
			t.Errorf("renewalTime(r=%v) = +%v, want +%v", tc.r, got, tc.want)
		}
	}
}

func TestNextBackoff(t *testing.T) {
	d := time.Duration(0)
	var got []time.Duration
	for range 7 {
		d = nextBackoff(d)
		got = append(got, d)
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff = %v, want %v", got, want)
		}
	}
}
