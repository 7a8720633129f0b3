package pki

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestRenewWhileRunning(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	year := &x509.Certificate{NotBefore: start, NotAfter: start.Add(360 * 24 * time.Hour)}
	short := &x509.Certificate{NotBefore: start, NotAfter: start.Add(30 * time.Hour)}
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
		at   time.Duration
		want bool
	}{
		{"year, fresh", year, 24 * time.Hour, false},
		{"year, just over a third left", year, 239 * 24 * time.Hour, false},
		{"year, under a third left", year, 241 * 24 * time.Hour, true},
		{"year, expired", year, 400 * 24 * time.Hour, true},
		{"short: the 90 days dominate", short, time.Hour, true},
	} {
		if got := renewWhileRunning(tc.cert, start.Add(tc.at)); got != tc.want {
			t.Errorf("%s: renewWhileRunning = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// currentLeaves are the certificates the bundle presents right now.
type currentLeaves struct {
	serving, kubeletClient *x509.Certificate
	adminPEM               []byte
}

func current(t *testing.T, b *Bundle) currentLeaves {
	t.Helper()
	serving, err := b.ServerTLSConfig().GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := b.KubeletClientTLSConfig().GetClientCertificate(&tls.CertificateRequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := b.AdminCredentials()
	return currentLeaves{serving: serving.Leaf, kubeletClient: client.Leaf, adminPEM: admin}
}

func TestRenewOnce(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := Config{Dir: dir}
	b := mustEnsure(t, cfg, fakeEnv(start))
	log := slog.New(slog.DiscardHandler)
	before := current(t, b)

	// Early in the life: nothing is rewritten or swapped.
	files := snapshot(t, dir)
	if err := b.renewOnce(cfg, fakeEnv(start.Add(30*24*time.Hour)), log); err != nil {
		t.Fatal(err)
	}
	if c := changed(files, snapshot(t, dir)); len(c) != 0 {
		t.Fatalf("early check rewrote %v", c)
	}
	if now := current(t, b); !now.serving.Equal(before.serving) || !now.kubeletClient.Equal(before.kubeletClient) || !bytes.Equal(now.adminPEM, before.adminPEM) {
		t.Fatal("early check swapped certificates")
	}

	// Less than a third of the life left (but more than Ensure's 90 days):
	// everything is renewed, on disk and in use.
	late := start.Add(250 * 24 * time.Hour)
	if err := b.renewOnce(cfg, fakeEnv(late), log); err != nil {
		t.Fatal(err)
	}
	after := current(t, b)
	if after.serving.Equal(before.serving) || after.kubeletClient.Equal(before.kubeletClient) || bytes.Equal(after.adminPEM, before.adminPEM) {
		t.Fatal("certificates not swapped")
	}
	if !after.serving.NotBefore.After(late.Add(-2 * time.Hour)) {
		t.Fatalf("renewed serving certificate starts %v", after.serving.NotBefore)
	}
	onDisk, _ := os.ReadFile(filepath.Join(dir, TLSDirName, ServingCertFile))
	if !mustParseCert(t, onDisk).Equal(after.serving) {
		t.Fatal("renewed serving certificate not written")
	}
	kubeconfig, err := clientcmd.LoadFromFile(filepath.Join(dir, KubeconfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kubeconfig.AuthInfos[kubeconfigName].ClientCertificateData, after.adminPEM) {
		t.Fatal("kubeconfig does not carry the renewed admin certificate")
	}
	// A restart now loads the renewed files.
	again := mustEnsure(t, cfg, fakeEnv(late))
	if !again.ServingCert.Leaf.Equal(after.serving) {
		t.Fatal("restart did not load the renewed serving certificate")
	}
}

func TestRenewLoop(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(start)
	e := fakeEnv(start)
	e.now = clk.Now
	cfg := Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)}
	b := mustEnsure(t, cfg, e)
	before := current(t, b).serving
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.renewLoop(ctx, cfg, e, clk) }()
	waitUntil(t, "the loop to wait for its next check", clk.HasWaiters)
	if !current(t, b).serving.Equal(before) {
		t.Fatal("renewed a fresh certificate")
	}
	clk.Step(250 * 24 * time.Hour)
	waitUntil(t, "the serving certificate to be renewed", func() bool { return !b.CurrentServingCert().Leaf.Equal(before) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// waitUntil polls cond until it holds or a generous deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
