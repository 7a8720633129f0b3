package cli

import (
	"bytes"
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/skiff-io/skiff/internal/encryption"
)

// fakeEncryptionServer answers over TLS (client-go sends credentials only
// over TLS) the secrets-encrypt endpoints as the server
// would, checking the bearer token the kubeconfig carries.
func fakeEncryptionServer(t *testing.T) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Header.Get("Authorization") != "Bearer admin-token":
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"forbidden: User \"bob\" cannot get path \"/skiff/v1/secrets-encrypt/status\"","reason":"Forbidden","code":403}`))
		case r.Method == http.MethodGet && r.URL.Path == encryption.StatusPath:
			_, _ = w.Write([]byte(`{"encrypted":true,"keys":[{"name":"aesgcm-2","provider":"aesgcm","primary":true,"configured":true,"secrets":3},{"name":"aesgcm-1","provider":"aesgcm","configured":true,"secrets":1}],"unencrypted":1,"total":5}`))
		case r.Method == http.MethodPost && r.URL.Path == encryption.RotatePath:
			_, _ = w.Write([]byte(`{"newKey":"aesgcm-3","rewritten":5,"removedKeys":["aesgcm-2","aesgcm-1"]}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writeKubeconfig(t *testing.T, dir string, srv *httptest.Server, token string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: ca}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["x"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = "x"
	path := filepath.Join(dir, "admin.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func runSecretsEncrypt(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newSecretsEncryptCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestSecretsEncryptCommands(t *testing.T) {
	srv := fakeEncryptionServer(t)
	dataDir := t.TempDir()
	writeKubeconfig(t, dataDir, srv, "admin-token")

	out, err := runSecretsEncrypt(t, "status", "--data-dir", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Encryption: enabled", "Secrets: 5 (1 unencrypted)", "aesgcm-2", "true", "3"} {
		if !strings.Contains(out, want) {
			t.Fatalf("status output lacks %q:\n%s", want, out)
		}
	}
	out, err = runSecretsEncrypt(t, "rotate", "--data-dir", dataDir)
	if err != nil || !strings.Contains(out, "New primary key: aesgcm-3") || !strings.Contains(out, "Secrets re-encrypted: 5") || !strings.Contains(out, "aesgcm-2, aesgcm-1") {
		t.Fatalf("rotate = %v:\n%s", err, out)
	}

	other := writeKubeconfig(t, t.TempDir(), srv, "bob-token")
	if _, err := runSecretsEncrypt(t, "status", "--kubeconfig", other); err == nil || !strings.Contains(err.Error(), `forbidden: User "bob"`) {
		t.Fatalf("status as bob = %v, want the server's refusal", err)
	}
	if _, err := runSecretsEncrypt(t, "status", "--data-dir", filepath.Join(dataDir, "missing")); err == nil {
		t.Fatal("status without a kubeconfig succeeded")
	}
}

func TestCallServerReportsNonStatusErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusBadGateway)
	}))
	defer srv.Close()
	var v map[string]any
	err := callServer(context.Background(), &rest.Config{Host: srv.URL}, http.MethodGet, encryption.StatusPath, &v)
	if err == nil || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
}
