package certs

import (
	"crypto/tls"
	"errors"
	"github.com/skiff-io/skiff/internal/pki"
	"io/fs"
	"os"
	"path/filepath"
)

// Files under the agent directory. Keys and certificates are all 0600:
// the directory belongs to the agent alone.
const (
	CAFile          = "ca.crt"
	ClientCertFile  = "client.crt"
	ClientKeyFile   = "client.key"
	ServingCertFile = "serving.crt"
	ServingKeyFile  = "serving.key"
	fileMode        = 0o600
)

func (k kind) files() (cert, key string) {
	if k == clientKind {
		return ClientCertFile, ClientKeyFile
	}
	return ServingCertFile, ServingKeyFile
}

// loadPair reads the stored certificate of kind k from dir; ok is false
// when it is missing or unreadable (it is then requested anew).
func loadPair(dir string, k kind) (pair *tls.Certificate, certPEM []byte, ok bool) {
	certName, keyName := k.files()
	certPEM, err := os.ReadFile(filepath.Join(dir, certName))
	if err != nil {
		return nil, nil, false
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, keyName))
	if err != nil {
		return nil, nil, false
	}
	p, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil || p.Leaf == nil {
		return nil, nil, false
	}
	return &p, certPEM, true
}

// savePair stores a certificate of kind k in dir, key first: interrupted
// in between, the key no longer matches the old certificate and the next
// start requests a new pair.
func savePair(dir string, k kind, certPEM, keyPEM []byte) error {
	certName, keyName := k.files()
	if err := pki.WriteFileAtomic(filepath.Join(dir, keyName), keyPEM, fileMode); err != nil {
		return err
	}
	return pki.WriteFileAtomic(filepath.Join(dir, certName), certPEM, fileMode)
}

// readOptional returns the file's content, or nil when it does not exist.
func readOptional(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}
