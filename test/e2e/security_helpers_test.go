package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// credentialKubeconfig writes a kubeconfig for the cluster's server and CA
// with the given credentials instead of the admin's (token, or client
// certificate and key PEM; all empty means anonymous).
func credentialKubeconfig(t *testing.T, c Cluster, token string, certPEM, keyPEM []byte) string {
	t.Helper()
	admin, err := clientcmd.LoadFromFile(c.Kubeconfig())
	if err != nil {
		t.Fatalf("admin kubeconfig: %v", err)
	}
	cluster := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["skiff"] = cluster
	cfg.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: token, ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	cfg.Contexts["user"] = &clientcmdapi.Context{Cluster: "skiff", AuthInfo: "user"}
	cfg.CurrentContext = "user"
	path := filepath.Join(t.TempDir(), "user.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatalf("writing kubeconfig: %v", err)
	}
	return path
}

// pathCluster is a Cluster whose kubeconfig is the one at path.
type pathCluster struct {
	Cluster
	path string
}

func (p pathCluster) Kubeconfig() string { return p.path }

// newCSR returns a PEM certificate request for CN name and O groups, and
// its private key in PEM.
func newCSR(t *testing.T, name string, groups ...string) (csrPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name, Organization: groups}}, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// runSkiff runs the skiff binary built for this test run.
func runSkiff(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	requireBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), commandDeadline)
	defer cancel()
	return exec.CommandContext(ctx, skiffBinary, args...).CombinedOutput()
}
