// Package encryption encrypts chosen resources (Secrets by default) at rest
// in etcd, configured like Kubernetes' EncryptionConfiguration, and rotates
// the keys without a restart.
//
// Stored values use Kubernetes' format: "k8s:enc:<provider>:v1:<key name>:"
// followed by the provider's ciphertext, so that a value names the key that
// decrypts it. The first provider of a resource (and its first key) encrypts
// new writes; every listed key still decrypts, and the identity provider
// reads values written before encryption was turned on.
package encryption

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// FileName is the encryption configuration's name under the data dir.
const FileName = "encryption-config.yaml"

// Kubernetes' EncryptionConfiguration type, which the file holds.
const (
	APIVersion = "apiserver.config.k8s.io/v1"
	Kind       = "EncryptionConfiguration"
)

// EncryptionConfiguration is the file format: Kubernetes' type of the same
// name, with the providers Skiff supports.
type EncryptionConfiguration struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	// Resources are matched in order; the first entry naming a resource
	// decides how it is stored.
	Resources []ResourceConfiguration `json:"resources"`
}

// ResourceConfiguration lists resources and the providers that store them.
type ResourceConfiguration struct {
	// Resources are "resource" (core group), "resource.group", "*.group",
	// "*." (every core resource) or "*.*".
	Resources []string `json:"resources"`
	// Providers decrypt in order of the value's prefix; the first one
	// encrypts.
	Providers []ProviderConfiguration `json:"providers"`
}

// ProviderConfiguration is one provider; exactly one field is set.
type ProviderConfiguration struct {
	AESGCM   *AESConfiguration      `json:"aesgcm,omitempty"`
	AESCBC   *AESConfiguration      `json:"aescbc,omitempty"`
	Identity *IdentityConfiguration `json:"identity,omitempty"`
	// Secretbox and KMS are Kubernetes providers Skiff does not
	// implement; they are parsed only to reject them clearly.
	Secretbox any `json:"secretbox,omitempty"`
	KMS       any `json:"kms,omitempty"`
}

// AESConfiguration holds the keys of an AES provider; the first encrypts.
type AESConfiguration struct {
	Keys []Key `json:"keys"`
}

// Key is a named key; Secret is its base64 encoding.
type Key struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// IdentityConfiguration stores values unencrypted.
type IdentityConfiguration struct{}

// Provider names, as they appear in the file and in stored prefixes.
const (
	ProviderAESGCM   = "aesgcm"
	ProviderAESCBC   = "aescbc"
	ProviderIdentity = "identity"
)

// Parse reads and validates an EncryptionConfiguration.
func Parse(data []byte) (*EncryptionConfiguration, error) {
	var ec EncryptionConfiguration
	if err := yaml.UnmarshalStrict(data, &ec); err != nil {
		return nil, fmt.Errorf("parsing encryption configuration: %w", err)
	}
	if _, err := compile(&ec); err != nil {
		return nil, err
	}
	return &ec, nil
}

// Marshal renders ec as YAML.
func Marshal(ec *EncryptionConfiguration) ([]byte, error) {
	return yaml.Marshal(ec)
}

// readFile parses the file at path.
func readFile(path string) (*EncryptionConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading encryption configuration: %w", err)
	}
	ec, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ec, nil
}

// writeFile replaces the file at path atomically (write a temporary file
// in the same directory, sync, rename) with mode 0600: a crash leaves
// either the old or the new keys, never a torn file.
func writeFile(path string, ec *EncryptionConfiguration) error {
	data, err := Marshal(ec)
	if err != nil {
		return fmt.Errorf("encoding encryption configuration: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing encryption configuration: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err == nil {
		if _, err = tmp.Write(data); err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing encryption configuration: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable where the platform allows
		d.Close()
	}
	return nil
}

// DefaultConfiguration encrypts Secrets with AES-GCM under key, and reads
// values written before encryption was on.
func DefaultConfiguration(key Key) *EncryptionConfiguration {
	return &EncryptionConfiguration{
		Kind:       Kind,
		APIVersion: APIVersion,
		Resources: []ResourceConfiguration{{
			Resources: []string{"secrets"},
			Providers: []ProviderConfiguration{
				{AESGCM: &AESConfiguration{Keys: []Key{key}}},
				{Identity: &IdentityConfiguration{}},
			},
		}},
	}
}

// validateHeader checks kind and apiVersion.
func validateHeader(ec *EncryptionConfiguration) error {
	if ec.Kind != Kind || ec.APIVersion != APIVersion {
		return fmt.Errorf("encryption configuration: got kind %q apiVersion %q, want %s %s", ec.Kind, ec.APIVersion, Kind, APIVersion)
	}
	return nil
}

// decodeKey decodes a key's secret and checks its length for the provider.
func decodeKey(provider string, k Key) ([]byte, error) {
	if k.Name == "" || strings.Contains(k.Name, ":") {
		return nil, fmt.Errorf("%s key name %q: must be non-empty and contain no ':'", provider, k.Name)
	}
	secret, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		return nil, fmt.Errorf("%s key %q: secret is not valid base64: %w", provider, k.Name, err)
	}
	switch n := len(secret); {
	case provider == ProviderAESCBC && n != 32:
		return nil, fmt.Errorf("aescbc key %q: secret is %d bytes, want 32", k.Name, n)
	case provider == ProviderAESGCM && n != 16 && n != 24 && n != 32:
		return nil, fmt.Errorf("aesgcm key %q: secret is %d bytes, want 16, 24 or 32", k.Name, n)
	}
	return secret, nil
}

// errNoKeys is returned for an AES provider without keys.
var errNoKeys = errors.New("provider has no keys")
