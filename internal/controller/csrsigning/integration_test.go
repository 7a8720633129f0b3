package csrsigning

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/skiff-io/skiff/internal/pki"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
)

// TestIntegration creates, approves and signs a request through a real
// API server: the approval and status subresources and the controller.
func TestIntegration(t *testing.T) {
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	cs := s.Client
	bundle, err := pki.Ensure(pki.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(cs, 0)
	ctrl, err := New(Config{Client: cs, Informers: factory, Signer: bundle})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); _ = ctrl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })

	csrs := cs.CertificatesV1().CertificateSigningRequests()
	csr, err := csrs.Create(ctx, &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "alice"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    requestPEM(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice", Organization: []string{"devs"}}}),
			SignerName: certificatesv1.KubeAPIServerClientSignerName,
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth},
		},
		// Dropped on create: requests cannot be born approved.
		Status: certificatesv1.CertificateSigningRequestStatus{Conditions: approved()},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(csr.Status.Conditions) != 0 {
		t.Fatalf("created with status %+v", csr.Status)
	}

	// Approval through /status is refused; through /approval it works.
	csr.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Reason: "Test"}}
	if _, err := csrs.UpdateStatus(ctx, csr, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("approval through status: err = %v, want Invalid", err)
	}
	approvedCSR, err := csrs.UpdateApproval(ctx, csr.Name, csr, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := approvedCSR.Status.Conditions; len(c) != 1 || c[0].Status != corev1.ConditionTrue || c[0].LastUpdateTime.IsZero() {
		t.Fatalf("approved conditions = %+v", c)
	}

	testserver.Eventually(t, 0, "certificate issued", func() error {
		got, err := csrs.Get(ctx, csr.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		block, _ := pem.Decode(got.Status.Certificate)
		if block == nil {
			return errors.New("no certificate yet")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return err
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: bundle.CAPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return err
		}
		if cert.Subject.CommonName != "alice" {
			t.Fatalf("subject = %v", cert.Subject)
		}
		return nil
	})

	// Denying an approved request is refused.
	got, err := csrs.Get(ctx, csr.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue}}
	if _, err := csrs.UpdateApproval(ctx, got.Name, got, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("deny after approve: err = %v, want Invalid", err)
	}
}
