package encryption

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiff-io/skiff/internal/storage"
)

// Config is a loaded encryption configuration and the file it lives in.
// Transformers it returns read its current keys on every call, so a
// rotation that replaces them (Controller.Rotate) needs no restart. Safe
// for concurrent use.
type Config struct {
	path string

	mu       sync.RWMutex
	file     *EncryptionConfiguration
	compiled *compiled
}

// Load reads the configuration at path.
func Load(path string) (*Config, error) {
	ec, err := readFile(path)
	if err != nil {
		return nil, err
	}
	c, err := compile(ec)
	if err != nil {
		return nil, err
	}
	return &Config{path: path, file: ec, compiled: c}, nil
}

// Ensure loads <dataDir>/encryption-config.yaml, first creating it (mode
// 0600) with a fresh random AES-GCM key for Secrets when it is missing.
func Ensure(dataDir string) (*Config, error) {
	path := filepath.Join(dataDir, FileName)
	if _, err := os.Stat(path); err == nil {
		return Load(path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("encryption configuration: %w", err)
	}
	key, err := newKey(time.Now(), func(string) bool { return false })
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("encryption configuration: %w", err)
	}
	if err := writeFile(path, DefaultConfiguration(key)); err != nil {
		return nil, err
	}
	return Load(path)
}

// newKey generates a 32-byte AES-GCM key named aesgcm-<unix time>.
func newKey(now time.Time, taken func(string) bool) (Key, error) {
	secret, err := newSecret(32)
	if err != nil {
		return Key{}, err
	}
	return Key{Name: keyNameFor(ProviderAESGCM, now.Unix(), taken), Secret: encodeSecret(secret)}, nil
}

// Path is the file the configuration was loaded from.
func (c *Config) Path() string { return c.path }

// File returns a copy of the current configuration.
func (c *Config) File() *EncryptionConfiguration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return cloneConfiguration(c.file)
}

// replace makes ec (already compiled as cc) the live configuration.
func (c *Config) replace(ec *EncryptionConfiguration, cc *compiled) {
	c.mu.Lock()
	c.file, c.compiled = ec, cc
	c.mu.Unlock()
}

// Transformer returns the storage transformer of a resource, or nil when
// the configuration does not cover it or stores it only unencrypted. When
// identity comes first but other providers follow (Kubernetes' way to
// decrypt everything), a transformer is returned so that encrypted values
// still read, and are reported stale.
func (c *Config) Transformer(gr schema.GroupResource) storage.Transformer {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i := c.compiled.entryFor(gr)
	if i < 0 {
		return nil
	}
	e := &c.compiled.entries[i]
	if len(e.providers) == 1 && e.providers[0].name == ProviderIdentity {
		return nil
	}
	return &transformer{cfg: c, gr: gr}
}

// transformer encrypts one resource with the configuration's current keys.
type transformer struct {
	cfg *Config
	gr  schema.GroupResource
}

// current returns the resource's entry, or nil when a newer configuration
// no longer covers it (values are then stored unencrypted).
func (t *transformer) current() *entry {
	t.cfg.mu.RLock()
	defer t.cfg.mu.RUnlock()
	i := t.cfg.compiled.entryFor(t.gr)
	if i < 0 {
		return nil
	}
	return &t.cfg.compiled.entries[i]
}

// ToStorage encrypts with the first provider's first key, binding the value
// to key.
func (t *transformer) ToStorage(plain []byte, key string) ([]byte, error) {
	e := t.current()
	if e == nil {
		return plain, nil
	}
	return encryptValue(e, plain, key)
}

// FromStorage decrypts with the key the value's prefix names.
func (t *transformer) FromStorage(stored []byte, key string) ([]byte, bool, error) {
	e := t.current()
	if e == nil {
		if isEncrypted(stored) {
			return nil, false, errors.New("value is encrypted but the encryption configuration no longer covers its resource")
		}
		return stored, false, nil
	}
	return decryptValue(e, stored, key)
}

// encryptValue encrypts plain for key with the entry's primary provider.
func encryptValue(e *entry, plain []byte, key string) ([]byte, error) {
	p := e.providers[0]
	if p.name == ProviderIdentity {
		return plain, nil
	}
	k := p.keys[0]
	var body []byte
	var err error
	if p.name == ProviderAESGCM {
		body, err = sealGCM(k.gcm, plain, []byte(key))
	} else {
		body, err = sealCBC(k.block, plain)
	}
	if err != nil {
		return nil, err
	}
	prefix := valuePrefix(p.name, k.name)
	return append([]byte(prefix), body...), nil
}

// decryptValue reads a stored value. stale is true unless the value was
// written by the primary provider with its primary key.
func decryptValue(e *entry, stored []byte, key string) (plain []byte, stale bool, err error) {
	provName, keyName, body, encrypted, err := parsePrefix(stored)
	if err != nil {
		return nil, false, err
	}
	if !encrypted {
		reads, first := e.hasIdentity()
		if !reads {
			return nil, false, errors.New("no matching prefix found: value is not encrypted and the identity provider is not configured")
		}
		return stored, !first, nil
	}
	pi, ki, ok := e.findKey(provName, keyName)
	if !ok {
		return nil, false, fmt.Errorf("no %s key named %q is configured", provName, keyName)
	}
	k := e.providers[pi].keys[ki]
	switch provName {
	case ProviderAESGCM:
		plain, err = openGCM(k.gcm, body, []byte(key))
	case ProviderAESCBC:
		plain, err = openCBC(k.block, body)
	}
	if err != nil {
		return nil, false, fmt.Errorf("decrypting with %s key %q: %w", provName, keyName, err)
	}
	return plain, pi != 0 || ki != 0, nil
}

// cloneConfiguration deep-copies the parts of ec that rotation changes.
func cloneConfiguration(ec *EncryptionConfiguration) *EncryptionConfiguration {
	out := *ec
	out.Resources = make([]ResourceConfiguration, len(ec.Resources))
	for i, rc := range ec.Resources {
		rc.Resources = append([]string(nil), rc.Resources...)
		providers := make([]ProviderConfiguration, len(rc.Providers))
		for j, p := range rc.Providers {
			if p.AESGCM != nil {
				p.AESGCM = &AESConfiguration{Keys: append([]Key(nil), p.AESGCM.Keys...)}
			}
			if p.AESCBC != nil {
				p.AESCBC = &AESConfiguration{Keys: append([]Key(nil), p.AESCBC.Keys...)}
			}
			providers[j] = p
		}
		rc.Providers = providers
		out.Resources[i] = rc
	}
	return &out
}
