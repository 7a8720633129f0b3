// Package serviceaccount issues and verifies Kubernetes service-account
// tokens: bound tokens from the TokenRequest API, legacy Secret-based
// tokens, and the OpenID discovery documents that let other parties verify
// them.
package serviceaccount

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const keyBits = 2048

// LoadOrCreateKey returns the RSA private key in the PEM file at path
// (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY"). When the file does
// not exist it creates a 2048-bit key there, mode 0600, atomically: the
// key is written to a temporary file and linked into place, so a reader
// never sees a partial file and two processes racing to create it end up
// using the same key.
func LoadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return parseKey(data, path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading service account key: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("generating service account key: %w", err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := writeNew(path, pemBytes); errors.Is(err, fs.ErrExist) {
		// Someone else created it first: use theirs.
		return LoadOrCreateKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("writing service account key: %w", err)
	}
	return key, nil
}

// writeNew creates path with data, mode 0600, failing with fs.ErrExist if
// it already exists; the file appears complete or not at all.
func writeNew(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}

// parseKey decodes the first private key PEM block of data.
func parseKey(data []byte, path string) (*rsa.PrivateKey, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("service account key %s: no RSA private key PEM block", path)
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("service account key %s: %w", path, err)
			}
			return key, nil
		case "PRIVATE KEY":
			parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("service account key %s: %w", path, err)
			}
			key, ok := parsed.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("service account key %s: %T is not an RSA key", path, parsed)
			}
			return key, nil
		}
	}
}

// keyID is the "kid" Kubernetes gives a signing key: the unpadded base64url
// SHA-256 of the public key's PKIX DER encoding, so verifiers can pick the
// key from the JWKS without trusting anything else in the token.
func keyID(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding service account public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}
