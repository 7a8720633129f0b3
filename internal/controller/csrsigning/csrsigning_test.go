package csrsigning

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/pki"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func requestPEM(t *testing.T, tmpl *x509.CertificateRequest) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func mustParse(t *testing.T, data []byte) *x509.CertificateRequest {
	t.Helper()
	req, err := ParseRequest(data)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

var (
	nodeSubject   = pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}
	clientUsages  = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	servingUsages = []certificatesv1.KeyUsage{certificatesv1.UsageKeyEncipherment, certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}
)

func TestValidateForSigner(t *testing.T) {
	u, _ := url.Parse("spiffe://x")
	cases := []struct {
		name   string
		signer string
		tmpl   x509.CertificateRequest
		usages []certificatesv1.KeyUsage
		want   string // error substring; "" means accepted
	}{
		{"kubelet client", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeSubject}, clientUsages, ""},
		{"kubelet client with key encipherment", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeSubject},
			[]certificatesv1.KeyUsage{certificatesv1.UsageKeyEncipherment, certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}, ""},
		{"kubelet client wrong org", certificatesv1.KubeAPIServerClientKubeletSignerName,
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:masters"}}}, clientUsages, "subject organization is not system:nodes"},
		{"kubelet client extra org", certificatesv1.KubeAPIServerClientKubeletSignerName,
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes", "system:masters"}}}, clientUsages, "subject organization is not system:nodes"},
		{"kubelet client wrong CN", certificatesv1.KubeAPIServerClientKubeletSignerName,
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "admin", Organization: []string{"system:nodes"}}}, clientUsages, "subject common name does not begin with system:node:"},
		{"kubelet client DNS SAN", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeSubject, DNSNames: []string{"n1"}}, clientUsages, "DNS subjectAltNames are not allowed"},
		{"kubelet client IP SAN", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeSubject, IPAddresses: []net.IP{net.IPv4(1, 2, 3, 4)}}, clientUsages, "IP subjectAltNames are not allowed"},
		{"kubelet client server usage", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeSubject},
			[]certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth}, "usages did not match [client auth digital signature key encipherment]"},
		{"serving", certificatesv1.KubeletServingSignerName, x509.CertificateRequest{Subject: nodeSubject, DNSNames: []string{"n1"}, IPAddresses: []net.IP{net.IPv4(10, 0, 0, 1)}}, servingUsages, ""},
		{"serving without SANs", certificatesv1.KubeletServingSignerName, x509.CertificateRequest{Subject: nodeSubject}, servingUsages, "DNS or IP subjectAltName is required"},
		{"serving URI SAN", certificatesv1.KubeletServingSignerName, x509.CertificateRequest{Subject: nodeSubject, DNSNames: []string{"n1"}, URIs: []*url.URL{u}}, servingUsages, "URI subjectAltNames are not allowed"},
		{"serving client usage", certificatesv1.KubeletServingSignerName, x509.CertificateRequest{Subject: nodeSubject, DNSNames: []string{"n1"}}, clientUsages, "usages did not match"},
		{"serving wrong CN", certificatesv1.KubeletServingSignerName,
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "web", Organization: []string{"system:nodes"}}, DNSNames: []string{"n1"}}, servingUsages, "subject common name does not begin with system:node:"},
		{"apiserver client any subject", certificatesv1.KubeAPIServerClientSignerName, x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice", Organization: []string{"devs"}}},
			[]certificatesv1.KeyUsage{certificatesv1.UsageClientAuth}, ""},
		{"apiserver client server usage", certificatesv1.KubeAPIServerClientSignerName, x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice"}},
			[]certificatesv1.KeyUsage{certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth}, "invalid usage for client certificate: server auth"},
		{"apiserver client no client auth", certificatesv1.KubeAPIServerClientSignerName, x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice"}},
			[]certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature}, "missing required usage for client certificate: client auth"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validateForSigner(tc.signer, mustParse(t, requestPEM(t, &tc.tmpl)), tc.usages)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	if d := Duration(nil, time.Hour); d != time.Hour {
		t.Errorf("unset: %v", d)
	}
	if d := Duration(ptr.To[int32](600), time.Hour); d != 10*time.Minute {
		t.Errorf("shorter: %v", d)
	}
	if d := Duration(ptr.To[int32](7200), time.Hour); d != time.Hour {
		t.Errorf("longer: %v", d)
	}
}

func approved() []certificatesv1.CertificateSigningRequestCondition {
	return []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}
}

// TestReconcile runs the controller against a fake API with a real CA.
func TestReconcile(t *testing.T) {
	bundle, err := pki.Ensure(pki.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	csr := func(name, signer string, tmpl x509.CertificateRequest, usages []certificatesv1.KeyUsage, conds []certificatesv1.CertificateSigningRequestCondition) *certificatesv1.CertificateSigningRequest {
		return &certificatesv1.CertificateSigningRequest{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: certificatesv1.CertificateSigningRequestSpec{Request: requestPEM(t, &tmpl), SignerName: signer, Usages: usages,
				ExpirationSeconds: ptr.To[int32](3600)},
			Status: certificatesv1.CertificateSigningRequestStatus{Conditions: conds},
		}
	}
	objs := []*certificatesv1.CertificateSigningRequest{
		csr("good", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeSubject}, clientUsages, approved()),
		csr("serving", certificatesv1.KubeletServingSignerName, x509.CertificateRequest{Subject: nodeSubject, DNSNames: []string{"n1"}}, servingUsages, approved()),
		csr("bad", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}}}, clientUsages, approved()),
		csr("pending", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeSubject}, clientUsages, nil),
		csr("foreign", "example.com/signer", x509.CertificateRequest{Subject: nodeSubject}, clientUsages, approved()),
		csr("denied", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeSubject}, clientUsages,
			[]certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue}}),
	}
	client := fake.NewClientset()
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informers: factory, Signer: bundle})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	indexer := factory.Certificates().V1().CertificateSigningRequests().Informer().GetIndexer()
	for _, o := range objs {
		if _, err := client.CertificatesV1().CertificateSigningRequests().Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := indexer.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range objs {
		if err := c.Reconcile(ctx, o.Name); err != nil {
			t.Fatalf("reconcile %s: %v", o.Name, err)
		}
	}
	get := func(name string) *certificatesv1.CertificateSigningRequest {
		got, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	for name, usage := range map[string]x509.ExtKeyUsage{"good": x509.ExtKeyUsageClientAuth, "serving": x509.ExtKeyUsageServerAuth} {
		got := get(name)
		block, _ := pem.Decode(got.Status.Certificate)
		if block == nil {
			t.Fatalf("%s: no certificate issued: %+v", name, got.Status)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: bundle.CAPool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("%s: certificate does not chain to the CA: %v", name, err)
		}
		if cert.Subject.CommonName != "system:node:n1" || !slices.Equal(cert.Subject.Organization, []string{"system:nodes"}) {
			t.Errorf("%s: subject = %v", name, cert.Subject)
		}
		if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{usage}) || cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			t.Errorf("%s: usages = %v %v", name, cert.ExtKeyUsage, cert.KeyUsage)
		}
		if life := cert.NotAfter.Sub(time.Now()); life > time.Hour || life < 50*time.Minute {
			t.Errorf("%s: certificate lives %v more, want about the requested hour", name, life)
		}
	}
	bad := get("bad")
	if len(bad.Status.Certificate) != 0 || len(bad.Status.Conditions) != 2 {
		t.Fatalf("bad: status = %+v", bad.Status)
	}
	if f := bad.Status.Conditions[1]; f.Type != certificatesv1.CertificateFailed || f.Reason != ReasonSignerValidationFailure || f.Message != "subject organization is not system:nodes" {
		t.Errorf("bad: condition = %+v", f)
	}
	for _, name := range []string{"pending", "foreign", "denied"} {
		if got := get(name); len(got.Status.Certificate) != 0 || len(got.Status.Conditions) > 1 {
			t.Errorf("%s: touched: %+v", name, got.Status)
		}
	}
}
