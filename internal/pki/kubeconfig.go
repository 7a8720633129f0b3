package pki

import (
	"bytes"
	"fmt"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfigName names the cluster, user and context in the admin
// kubeconfig.
const kubeconfigName = "default"

// WriteKubeconfig writes a kubeconfig at path with one cluster (serverURL,
// trusting caPEM), one user authenticating with the client certificate
// certPEM/keyPEM, and a context "default" that is also the current
// context. All credentials are embedded, so the file stands alone. The
// file is replaced atomically with mode 0600 since it holds a private key.
func WriteKubeconfig(path, serverURL string, caPEM, certPEM, keyPEM []byte) error {
	data, err := kubeconfigBytes(serverURL, caPEM, certPEM, keyPEM)
	if err != nil {
		return err
	}
	if err := ensureDir(filepath.Dir(path)); err != nil {
		return err
	}
	if err := WriteFileAtomic(path, data, secretMode); err != nil {
		return fmt.Errorf("pki: kubeconfig: %w", err)
	}
	return nil
}

// kubeconfigBytes serializes the kubeconfig with client-go's own encoder
// (the one clientcmd.WriteToFile uses), so kubectl reads it back exactly;
// writing the bytes ourselves is what makes the replacement atomic.
func kubeconfigBytes(serverURL string, caPEM, certPEM, keyPEM []byte) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = serverURL
	cluster.CertificateAuthorityData = caPEM
	cfg.Clusters[kubeconfigName] = cluster

	user := clientcmdapi.NewAuthInfo()
	user.ClientCertificateData = certPEM
	user.ClientKeyData = keyPEM
	cfg.AuthInfos[kubeconfigName] = user

	ctx := clientcmdapi.NewContext()
	ctx.Cluster = kubeconfigName
	ctx.AuthInfo = kubeconfigName
	cfg.Contexts[kubeconfigName] = ctx
	cfg.CurrentContext = kubeconfigName

	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("pki: encoding kubeconfig: %w", err)
	}
	return data, nil
}

// ensureKubeconfig writes the admin kubeconfig unless the file already
// holds exactly that content, so restarts leave it (and anyone watching
// it) alone.
func ensureKubeconfig(path, serverURL string, caPEM, certPEM, keyPEM []byte) error {
	want, err := kubeconfigBytes(serverURL, caPEM, certPEM, keyPEM)
	if err != nil {
		return err
	}
	have, err := readOptional(path)
	if err != nil {
		return fmt.Errorf("pki: kubeconfig: %w", err)
	}
	if bytes.Equal(have, want) {
		return nil
	}
	if err := WriteFileAtomic(path, want, secretMode); err != nil {
		return fmt.Errorf("pki: kubeconfig: %w", err)
	}
	return nil
}
