package encryption

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiff-io/skiff/internal/storage"
)

// SecretsResource is the resource the controller rotates and reports on.
var SecretsResource = schema.GroupResource{Resource: "secrets"}

// maxRewritePasses bounds how often Rotate rewrites the Secrets before
// giving up on dropping the old keys. A second pass catches a write that
// encrypted with the old key just before the swap but reached etcd after
// the first pass read its key.
const maxRewritePasses = 5

// ErrRotationInProgress is returned when Rotate is called during another
// rotation.
var ErrRotationInProgress = errors.New("a secrets encryption key rotation is already in progress")

// Controller rotates the keys of a live configuration and reports which
// key encrypts each Secret.
type Controller struct {
	cfg     *Config
	secrets *storage.Resource
	log     *slog.Logger
	// now is the clock new key names come from.
	now func() time.Time

	rotating sync.Mutex // held for a whole rotation
}

// NewController returns a controller for cfg, whose transformer must be the
// one secrets (the Secrets' store) was registered with.
func NewController(cfg *Config, secrets *storage.Resource, log *slog.Logger) *Controller {
	if log == nil {
		log = slog.Default()
	}
	return &Controller{cfg: cfg, secrets: secrets, log: log, now: time.Now}
}

// KeyStatus is one key and how many Secrets it encrypts.
type KeyStatus struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	// Primary: this key encrypts new writes.
	Primary bool `json:"primary"`
	// Configured is false for a key that stored values name but the
	// configuration no longer lists (those Secrets cannot be read).
	Configured bool `json:"configured"`
	Secrets    int  `json:"secrets"`
}

// Status is what `skiff secrets-encrypt status` shows.
type Status struct {
	// Encrypted: Secrets are written encrypted.
	Encrypted   bool        `json:"encrypted"`
	Keys        []KeyStatus `json:"keys"`
	Unencrypted int         `json:"unencrypted"`
	Total       int         `json:"total"`
}

// Status reads every stored Secret's prefix and counts them by key.
func (c *Controller) Status(ctx context.Context) (*Status, error) {
	st := &Status{}
	file := c.cfg.File()
	if i := entryIndex(file, SecretsResource); i >= 0 {
		for pi, p := range file.Resources[i].Providers {
			name, keys := providerKeys(p)
			if pi == 0 && name != ProviderIdentity {
				st.Encrypted = true
			}
			for ki, k := range keys {
				st.Keys = append(st.Keys, KeyStatus{Name: k.Name, Provider: name, Primary: pi == 0 && ki == 0, Configured: true})
			}
		}
	}
	err := c.secrets.ForEachStored(ctx, func(_ string, stored []byte) error {
		st.Total++
		provName, keyName, _, encrypted, err := parsePrefix(stored)
		if !encrypted {
			st.Unencrypted++
			return nil
		}
		if err != nil {
			keyName = "(malformed)"
		}
		for i := range st.Keys {
			if st.Keys[i].Provider == provName && st.Keys[i].Name == keyName {
				st.Keys[i].Secrets++
				return nil
			}
		}
		st.Keys = append(st.Keys, KeyStatus{Name: keyName, Provider: provName, Secrets: 1})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading secrets: %w", err)
	}
	return st, nil
}

// RotateResult is what a rotation did.
type RotateResult struct {
	NewKey      string   `json:"newKey"`
	Rewritten   int      `json:"rewritten"`
	RemovedKeys []string `json:"removedKeys"`
}

// Rotate replaces the Secrets' encryption key without a restart:
//  1. a new AES-GCM key becomes primary (the old keys still decrypt), the
//     file is saved atomically and only then used live, so that nothing is
//     ever encrypted with a key that is not on disk;
//  2. every Secret not under the new key is rewritten, until a pass finds
//     none;
//  3. the old keys are removed from the file (identity stays if listed).
//
// When step 2 fails the old keys stay configured, so that nothing becomes
// unreadable; running Rotate again resumes.
func (c *Controller) Rotate(ctx context.Context) (*RotateResult, error) {
	if !c.rotating.TryLock() {
		return nil, ErrRotationInProgress
	}
	defer c.rotating.Unlock()
	withNew, newKey, err := addPrimaryKey(c.cfg.File(), SecretsResource, c.now())
	if err != nil {
		return nil, err
	}
	if err := c.save(withNew); err != nil {
		return nil, err
	}
	c.log.Info("secrets encryption key added as primary", "key", newKey.Name)
	res := &RotateResult{NewKey: newKey.Name}
	for pass := 1; ; pass++ {
		n, err := c.secrets.Rewrite(ctx)
		res.Rewritten += n
		if err != nil {
			return res, fmt.Errorf("re-encrypting secrets (old keys kept): %w", err)
		}
		if n == 0 {
			break
		}
		if pass == maxRewritePasses {
			return res, fmt.Errorf("re-encrypting secrets: still rewriting after %d passes (old keys kept)", pass)
		}
	}
	final, removed := keepOnlyPrimary(withNew, SecretsResource)
	if err := c.save(final); err != nil {
		return res, err
	}
	res.RemovedKeys = removed
	c.log.Info("secrets encryption key rotated", "key", newKey.Name, "rewritten", res.Rewritten, "removed", removed)
	return res, nil
}

// RewriteStale rewrites every Secret not stored under the primary key, e.g.
// the Secrets written before encryption was turned on, so that none stays
// readable in etcd. Servers call it once the store is ready; it only reads
// when nothing is stale. It waits for a running rotation to finish.
func (c *Controller) RewriteStale(ctx context.Context) (int, error) {
	c.rotating.Lock()
	defer c.rotating.Unlock()
	n, err := c.secrets.Rewrite(ctx)
	if n > 0 {
		c.log.Info("re-encrypted secrets under the primary key", "rewritten", n)
	}
	return n, err
}

// save validates ec, writes it to the file and then makes it live.
func (c *Controller) save(ec *EncryptionConfiguration) error {
	cc, err := compile(ec)
	if err != nil {
		return err
	}
	if err := writeFile(c.cfg.path, ec); err != nil {
		return err
	}
	c.cfg.replace(ec, cc)
	return nil
}

// entryIndex returns the index of the first entry covering gr, or -1.
func entryIndex(ec *EncryptionConfiguration, gr schema.GroupResource) int {
	for i, rc := range ec.Resources {
		for _, r := range rc.Resources {
			if m, err := parseMatcher(r); err == nil && m.matches(gr) {
				return i
			}
		}
	}
	return -1
}

// providerKeys returns a provider's name and keys.
func providerKeys(p ProviderConfiguration) (string, []Key) {
	switch {
	case p.AESGCM != nil:
		return ProviderAESGCM, p.AESGCM.Keys
	case p.AESCBC != nil:
		return ProviderAESCBC, p.AESCBC.Keys
	case p.Identity != nil:
		return ProviderIdentity, nil
	}
	return "", nil
}

// addPrimaryKey returns a copy of ec where a new AES-GCM key encrypts gr:
// prepended to the first provider when that is aesgcm, otherwise in a new
// aesgcm provider put first. It refuses an entry that also covers other
// resources, since rotation rewrites gr only and later drops the old keys.
func addPrimaryKey(ec *EncryptionConfiguration, gr schema.GroupResource, now time.Time) (*EncryptionConfiguration, Key, error) {
	i := entryIndex(ec, gr)
	if i < 0 {
		return nil, Key{}, fmt.Errorf("the encryption configuration does not cover %s", gr)
	}
	rc := &ec.Resources[i]
	if len(rc.Resources) != 1 || trimmed(rc.Resources[0]) != gr.String() {
		return nil, Key{}, fmt.Errorf("the encryption configuration entry for %s also covers %v: edit the file to rotate its keys", gr, rc.Resources)
	}
	taken := map[string]bool{}
	for _, p := range rc.Providers {
		if name, keys := providerKeys(p); name == ProviderAESGCM {
			for _, k := range keys {
				taken[k.Name] = true
			}
		}
	}
	key, err := newKey(now, func(n string) bool { return taken[n] })
	if err != nil {
		return nil, Key{}, err
	}
	if first := rc.Providers[0]; first.AESGCM != nil {
		first.AESGCM.Keys = append([]Key{key}, first.AESGCM.Keys...)
	} else {
		rc.Providers = append([]ProviderConfiguration{{AESGCM: &AESConfiguration{Keys: []Key{key}}}}, rc.Providers...)
	}
	return ec, key, nil
}

// keepOnlyPrimary returns a copy of ec whose entry for gr keeps only the
// primary key and the identity provider (if listed), and the names of the
// keys it dropped.
func keepOnlyPrimary(ec *EncryptionConfiguration, gr schema.GroupResource) (*EncryptionConfiguration, []string) {
	out := cloneConfiguration(ec)
	i := entryIndex(out, gr)
	if i < 0 {
		return out, nil
	}
	rc := &out.Resources[i]
	var kept []ProviderConfiguration
	removed := []string{}
	for pi, p := range rc.Providers {
		name, keys := providerKeys(p)
		switch {
		case name == ProviderIdentity:
			kept = append(kept, p)
		case pi == 0:
			for _, k := range keys[1:] {
				removed = append(removed, k.Name)
			}
			kept = append(kept, ProviderConfiguration{AESGCM: p.AESGCM, AESCBC: p.AESCBC})
			if p.AESGCM != nil {
				kept[len(kept)-1].AESGCM = &AESConfiguration{Keys: keys[:1]}
			} else {
				kept[len(kept)-1].AESCBC = &AESConfiguration{Keys: keys[:1]}
			}
		default:
			for _, k := range keys {
				removed = append(removed, k.Name)
			}
		}
	}
	rc.Providers = kept
	return out, removed
}
