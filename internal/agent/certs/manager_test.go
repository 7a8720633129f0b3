package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

// testCA signs CSRs the way the cluster's signer would, at the fake
// clock's time.
type testCA struct {
	cert  *x509.Certificate
	key   *ecdsa.PrivateKey
	pem   []byte
	clock *clocktesting.FakeClock
}

func newTestCA(t *testing.T, clk *clocktesting.FakeClock) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: clk.Now().Add(-time.Hour), NotAfter: clk.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), clock: clk}
}

func (ca *testCA) sign(csr *certificatesv1.CertificateSigningRequest, validity time.Duration) ([]byte, error) {
	block, _ := pem.Decode(csr.Spec.Request)
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, err
	}
	usage := x509.ExtKeyUsageClientAuth
	if slices.Contains(csr.Spec.Usages, certificatesv1.UsageServerAuth) {
		usage = x509.ExtKeyUsageServerAuth
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: req.Subject, DNSNames: req.DNSNames, IPAddresses: req.IPAddresses,
		NotBefore: ca.clock.Now(), NotAfter: ca.clock.Now().Add(validity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, req.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// made records one CSR the fake API server received.
type made struct {
	csr       *certificatesv1.CertificateSigningRequest
	bootstrap bool // authenticated with the bootstrap token
}

// fakeCluster is a fake clientset whose CSRs are approved and signed on
// creation (or denied, or left pending).
type fakeCluster struct {
	ca       *testCA
	client   *fake.Clientset
	validity time.Duration
	mode     string // "", "deny", "pending"

	mu    sync.Mutex
	made  []made
	token bool // the client being built authenticates with the token
}

func newFakeCluster(t *testing.T, ca *testCA) *fakeCluster {
	f := &fakeCluster{ca: ca, client: fake.NewClientset(), validity: 100 * time.Hour}
	n := 0
	f.client.PrependReactor("create", "certificatesigningrequests", func(a k8stesting.Action) (bool, runtime.Object, error) {
		csr := a.(k8stesting.CreateAction).GetObject().(*certificatesv1.CertificateSigningRequest)
		f.mu.Lock()
		defer f.mu.Unlock()
		n++
		csr.Name = fmt.Sprintf("%s%d", csr.GenerateName, n)
		csr.UID = types.UID(csr.Name)
		// The fake ignores field selectors, so WaitForCertificate would
		// see earlier CSRs too: keep only the newest, as a name-selected
		// watch on a real server would show.
		for _, old := range f.made {
			_ = f.client.Tracker().Delete(certificatesv1.SchemeGroupVersion.WithResource("certificatesigningrequests"), "", old.csr.Name)
		}
		f.made = append(f.made, made{csr: csr.DeepCopy(), bootstrap: f.token})
		switch f.mode {
		case "deny":
			csr.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateDenied, Reason: "NotMine"}}
		case "pending":
		default:
			cert, err := f.ca.sign(csr, f.validity)
			if err != nil {
				return true, nil, err
			}
			csr.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Reason: "AutoApproved"}}
			csr.Status.Certificate = cert
		}
		return false, nil, nil // the tracker stores the edited object
	})
	return f
}

// newClient stands in for kubernetes.NewForConfig: every config reaches
// the fake; whether it carries the bootstrap token is recorded.
func (f *fakeCluster) newClient(rc *rest.Config) (kubernetes.Interface, error) {
	f.mu.Lock()
	f.token = rc.BearerToken != ""
	f.mu.Unlock()
	return f.client, nil
}

func (f *fakeCluster) requests() []made {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.made)
}

func testConfig(f *fakeCluster, dir string) Config {
	cfg := Config{Server: "https://192.0.2.1:6443", CAPEM: f.ca.pem, Dir: dir, NodeName: "node-a", Hosts: []string{"192.0.2.7"},
		BootstrapToken: "abcdef.0123456789abcdef", Clock: f.ca.clock, ApprovalTimeout: time.Minute,
		Logger: slog.New(slog.DiscardHandler)}
	cfg.newClient = f.newClient
	cfg.jitter = func() float64 { return 0 }
	return cfg
}

// runManager runs m.Run until the test ends.
func runManager(t *testing.T, m *Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func TestBootstrapAndRestart(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := newFakeCluster(t, newTestCA(t, clk))
	dir := t.TempDir()
	ctx := context.Background()
	m, err := New(ctx, testConfig(f, dir))
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("New made %d CSRs, want 1 (client)", len(reqs))
	}
	client := reqs[0]
	if !client.bootstrap || client.csr.Spec.SignerName != "kubernetes.io/kube-apiserver-client-kubelet" {
		t.Fatalf("client CSR: bootstrap %v, signer %q", client.bootstrap, client.csr.Spec.SignerName)
	}
	if want := []certificatesv1.KeyUsage{"digital signature", "key encipherment", "client auth"}; !slices.Equal(client.csr.Spec.Usages, want) {
		t.Fatalf("client usages %v", client.csr.Spec.Usages)
	}
	leaf := m.ClientCertificate().Leaf
	if leaf.Subject.CommonName != "system:node:node-a" || !slices.Equal(leaf.Subject.Organization, []string{"system:nodes"}) {
		t.Fatalf("client subject %v", leaf.Subject)
	}
	if _, err := m.GetCertificate(nil); err == nil || !strings.Contains(err.Error(), "not been issued yet") {
		t.Fatalf("serving certificate before Run: %v", err)
	}

	// Run requests the serving certificate as the node at once.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	waitFor(t, "the serving certificate", func() bool { return m.ServingCertificate() != nil })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	reqs = f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d CSRs, want 2", len(reqs))
	}
	serving := reqs[1]
	if serving.bootstrap || serving.csr.Spec.SignerName != "kubernetes.io/kubelet-serving" {
		t.Fatalf("serving CSR: bootstrap %v, signer %q", serving.bootstrap, serving.csr.Spec.SignerName)
	}
	if want := []certificatesv1.KeyUsage{"digital signature", "key encipherment", "server auth"}; !slices.Equal(serving.csr.Spec.Usages, want) {
		t.Fatalf("serving usages %v", serving.csr.Spec.Usages)
	}
	srv, err := m.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(srv.Leaf.DNSNames, []string{"node-a"}) || len(srv.Leaf.IPAddresses) != 1 || srv.Leaf.IPAddresses[0].String() != "192.0.2.7" {
		t.Fatalf("serving SANs %v %v, want only the node's name and address", srv.Leaf.DNSNames, srv.Leaf.IPAddresses)
	}
	for _, name := range []string{CAFile, ClientCertFile, ClientKeyFile, ServingCertFile, ServingKeyFile} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, st, err)
		}
	}

	// A restart with more than 30% of the life left: no new CSR.
	clk.Step(60 * time.Hour)
	m2, err := New(ctx, testConfig(f, dir))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 2 {
		t.Fatalf("restart made %d new CSRs", n-2)
	}
	if !m2.ClientCertificate().Leaf.Equal(leaf) || m2.ServingCertificate() == nil || !m2.ServingCertificate().Leaf.Equal(srv.Leaf) {
		t.Fatal("stored certificates not reused")
	}

	// Past 70%: the client certificate is renewed as the node; the
	// serving one, still valid, is kept for Run to renew.
	clk.Step(15 * time.Hour)
	cfg := testConfig(f, dir)
	cfg.BootstrapToken = ""
	m3, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	reqs = f.requests()
	if len(reqs) != 3 || reqs[2].bootstrap {
		t.Fatalf("renewal on restart: %d CSRs", len(reqs))
	}
	if m3.ClientCertificate().Leaf.Equal(leaf) || m3.ServingCertificate() == nil {
		t.Fatal("client certificate not renewed, or serving certificate dropped")
	}

	// A serving certificate lacking a name the node now has is not used.
	cfg.Hosts = []string{"192.0.2.8"}
	if m4, err := New(ctx, cfg); err != nil || m4.ServingCertificate() != nil {
		t.Fatalf("serving certificate with other SANs kept: %v", err)
	}

	// Expired and no token: a clear error.
	clk.Step(200 * time.Hour)
	if _, err := New(ctx, cfg); err == nil || !strings.Contains(err.Error(), "no bootstrap token") {
		t.Fatalf("expired without token: %v", err)
	}
}

func TestNewRefusedOrUnapproved(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, tc := range []struct{ mode, want string }{
		{"deny", "denied"},
		{"pending", "not approved"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			f := newFakeCluster(t, newTestCA(t, clk))
			f.mode = tc.mode
			cfg := testConfig(f, t.TempDir())
			cfg.ApprovalTimeout = 100 * time.Millisecond
			if _, err := New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestRunRenews(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := newFakeCluster(t, newTestCA(t, clk))
	m, err := New(context.Background(), testConfig(f, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	waitFor(t, "the serving certificate", func() bool { return m.ServingCertificate() != nil })
	oldClient, oldServing := m.ClientCertificate(), m.ServingCertificate()
	waitFor(t, "Run to wait for the renewal time", clk.HasWaiters)
	clk.Step(69 * time.Hour) // before 70% (jitter pinned to 0)
	waitFor(t, "Run to wait again", clk.HasWaiters)
	if m.ClientCertificate() != oldClient || m.ServingCertificate() != oldServing {
		t.Fatal("renewed before 70% of the life")
	}
	clk.Step(2 * time.Hour)
	waitFor(t, "both certificates renewed", func() bool {
		return m.ClientCertificate() != oldClient && m.ServingCertificate() != oldServing
	})
	for _, r := range f.requests()[1:] {
		if r.bootstrap {
			t.Fatal("renewal used the bootstrap token")
		}
	}
}

func TestRunRetries(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := newFakeCluster(t, newTestCA(t, clk))
	cfg := testConfig(f, t.TempDir())
	cfg.ApprovalTimeout = 50 * time.Millisecond
	m, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.mode = "deny"
	f.mu.Unlock()
	runManager(t, m)
	waitFor(t, "a refused serving CSR and a backoff wait", func() bool { return len(f.requests()) == 2 && clk.HasWaiters() })
	f.mu.Lock()
	f.mode = ""
	f.mu.Unlock()
	clk.Step(retryMin)
	waitFor(t, "the serving certificate after the retry", func() bool { return m.ServingCertificate() != nil })
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
