package certs

import (
	"fmt"
	"github.com/skiff-io/skiff/internal/pki"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// WriteKubeconfig writes a kubeconfig at path (0600) for debugging as the
// node with kubectl. It refers to the certificate files rather than
// embedding them, so it keeps working after renewals.
func (m *Manager) WriteKubeconfig(path string) error {
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = m.cfg.Server
	cluster.CertificateAuthority = filepath.Join(m.cfg.Dir, CAFile)
	cfg.Clusters["default"] = cluster
	user := clientcmdapi.NewAuthInfo()
	user.ClientCertificate = filepath.Join(m.cfg.Dir, ClientCertFile)
	user.ClientKey = filepath.Join(m.cfg.Dir, ClientKeyFile)
	cfg.AuthInfos["default"] = user
	ctx := clientcmdapi.NewContext()
	ctx.Cluster, ctx.AuthInfo = "default", "default"
	cfg.Contexts["default"] = ctx
	cfg.CurrentContext = "default"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("node kubeconfig: %w", err)
	}
	if err := pki.WriteFileAtomic(path, data, fileMode); err != nil {
		return fmt.Errorf("node kubeconfig: %w", err)
	}
	return nil
}
