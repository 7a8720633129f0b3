package pki

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

func TestAdminKubeconfigLoads(t *testing.T) {
	dir := t.TempDir()
	b := mustEnsure(t, Config{Dir: dir, APIServerURL: "https://127.0.0.1:7443"}, fakeEnv(time.Now()))

	raw, err := clientcmd.LoadFromFile(b.KubeconfigPath)
	if err != nil {
		t.Fatalf("LoadFromFile: %v", err)
	}
	if raw.CurrentContext != "default" {
		t.Errorf("current-context = %q, want default", raw.CurrentContext)
	}
	ctx, ok := raw.Contexts["default"]
	if !ok {
		t.Fatalf("no context default: %v", raw.Contexts)
	}
	if raw.Clusters[ctx.Cluster] == nil || raw.AuthInfos[ctx.AuthInfo] == nil {
		t.Fatalf("context refers to missing cluster %q or user %q", ctx.Cluster, ctx.AuthInfo)
	}

	rc, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		t.Fatalf("ClientConfig: %v", err)
	}
	if rc.Host != "https://127.0.0.1:7443" {
		t.Errorf("Host = %q", rc.Host)
	}
	if string(rc.CAData) != string(b.CAPEM()) {
		t.Error("CAData differs from CA")
	}
	if string(rc.CertData) != string(b.AdminCertPEM) || string(rc.KeyData) != string(b.AdminKeyPEM) {
		t.Error("client credentials differ from admin cert/key")
	}
	if rc.CAFile != "" || rc.CertFile != "" || rc.KeyFile != "" {
		t.Error("kubeconfig refers to files instead of embedding data")
	}
}

func TestWriteKubeconfig(t *testing.T) {
	b := mustEnsure(t, Config{Dir: t.TempDir()}, fakeEnv(time.Now()))
	certPEM, keyPEM, err := b.IssueClientCert("alice", []string{"devs"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The parent directory does not exist yet.
	path := filepath.Join(t.TempDir(), "nested", "alice.kubeconfig")
	if err := WriteKubeconfig(path, "https://10.0.0.1:6443", b.CAPEM(), certPEM, keyPEM); err != nil {
		t.Fatalf("WriteKubeconfig: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %o, want 600", info.Mode().Perm())
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("BuildConfigFromFlags: %v", err)
	}
	if rc.Host != "https://10.0.0.1:6443" || string(rc.CertData) != string(certPEM) {
		t.Errorf("rest config host %q / cert mismatch", rc.Host)
	}
}
