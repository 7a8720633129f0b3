package pki

import (
	"crypto/x509"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeEnv pins the clock and the host's identity.
func fakeEnv(now time.Time) env {
	return env{
		now:      func() time.Time { return now },
		hostname: func() (string, error) { return "Node-1.example", nil },
		interfaces: func() ([]net.Addr, error) {
			return []net.Addr{
				&net.IPNet{IP: net.ParseIP("127.0.0.1"), Mask: net.CIDRMask(8, 32)},
				&net.IPNet{IP: net.ParseIP("192.168.5.7").To4(), Mask: net.CIDRMask(24, 32)},
				&net.IPNet{IP: net.ParseIP("fe80::1"), Mask: net.CIDRMask(64, 128)},
				&net.IPNet{IP: net.ParseIP("2001:db8::7"), Mask: net.CIDRMask(64, 128)},
			}, nil
		},
	}
}

func mustEnsure(t *testing.T, cfg Config, e env) *Bundle {
	t.Helper()
	b, err := ensure(cfg, e)
	if err != nil {
		t.Fatalf("ensure: %v", err)
	}
	return b
}

func mustParseCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	c, err := parseCertPEM(certPEM)
	if err != nil {
		t.Fatalf("parse cert: %v", err)
	}
	return c
}

// allFiles lists every file Ensure manages, relative to the data dir.
func allFiles() []string {
	var out []string
	for _, f := range []string{CACertFile, CAKeyFile, ServingCertFile, ServingKeyFile, AdminCertFile, AdminKeyFile, KubeletClientCertFile, KubeletClientKeyFile} {
		out = append(out, filepath.Join(TLSDirName, f))
	}
	return append(out, KubeconfigFile)
}

// fileState captures a file's identity and content: an atomic rewrite
// replaces the inode even when the bytes happen to be equal.
type fileState struct {
	info os.FileInfo
	data []byte
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	for _, f := range allFiles() {
		p := filepath.Join(dir, f)
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // absent: any later file counts as written
		}
		if err != nil {
			t.Fatalf("stat %s: %v", f, err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		out[f] = fileState{info: info, data: data}
	}
	return out
}

// changed returns the files written between two snapshots; before may
// lack files, after must not.
func changed(before, after map[string]fileState) map[string]bool {
	out := map[string]bool{}
	for f, a := range after {
		b, ok := before[f]
		if !ok || !os.SameFile(b.info, a.info) || string(a.data) != string(b.data) {
			out[f] = true
		}
	}
	return out
}
