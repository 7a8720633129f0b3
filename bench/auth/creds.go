package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	protobufCT = "application/vnd.kubernetes.protobuf"
	jsonCT     = "application/json"
)

// adminConfig is the admin kubeconfig's client configuration with
// client-side rate limiting off and protobuf on the wire.
func adminConfig(kubeconfig string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", kubeconfig, err)
	}
	return tune(cfg), nil
}

// tune turns client-side throttling off and selects protobuf.
func tune(cfg *rest.Config) *rest.Config {
	cfg.QPS, cfg.Burst = -1, 0
	cfg.ContentType = protobufCT
	cfg.AcceptContentTypes = protobufCT + "," + jsonCT
	cfg.UserAgent = "skiff-auth-bench"
	return cfg
}

// bearerConfig is admin's server and CA with a bearer token instead of
// the client certificate.
func bearerConfig(admin *rest.Config, token string) *rest.Config {
	cfg := rest.AnonymousClientConfig(admin)
	cfg.BearerToken = token
	return tune(cfg)
}

// certConfig is admin's server and CA with another client certificate.
func certConfig(admin *rest.Config, certPEM, keyPEM []byte) *rest.Config {
	cfg := rest.AnonymousClientConfig(admin)
	cfg.TLSClientConfig.CertData, cfg.TLSClientConfig.KeyData = certPEM, keyPEM
	return tune(cfg)
}

// serviceAccountToken asks the TokenRequest API for a one-hour token of
// namespace/name with the API server's default audience.
func serviceAccountToken(ctx context.Context, cs kubernetes.Interface, namespace, name string) (string, error) {
	expiry := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for service account %s/%s: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}

// clientCert signs, with the cluster CA in the server's data dir, a client
// certificate for user commonName in groups orgs, as the CSR signer would
// issue it (e.g. system:node:<name> in system:nodes to a node agent). The
// benchmark owns the server and its data dir, so it reads the CA key
// directly instead of going through a CertificateSigningRequest.
func clientCert(dataDir, commonName string, orgs []string) (certPEM, keyPEM []byte, err error) {
	caCertPEM, err := os.ReadFile(filepath.Join(dataDir, "tls", "ca.crt"))
	if err != nil {
		return nil, nil, err
	}
	caKeyPEM, err := os.ReadFile(filepath.Join(dataDir, "tls", "ca.key"))
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(caCertPEM)
	if block == nil {
		return nil, nil, errors.New("ca.crt: no PEM block")
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("ca.crt: %w", err)
	}
	caKey, err := parseSigner(caKeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("ca.key: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("signing the certificate of %s: %w", commonName, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// parseSigner reads the first private key block (SEC 1, PKCS #8 or PKCS #1).
func parseSigner(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no private key block")
		}
		switch block.Type {
		case "EC PRIVATE KEY":
			return x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("PKCS #8 key of type %T cannot sign", k)
			}
			return s, nil
		}
	}
}
