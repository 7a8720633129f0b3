package encryption

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// compiled is a validated configuration with its ciphers ready.
type compiled struct {
	entries []entry
}

// entry is one ResourceConfiguration.
type entry struct {
	matchers  []matcher
	providers []provider
}

// matcher matches a group/resource; "*" matches any.
type matcher struct{ resource, group string }

func (m matcher) matches(gr schema.GroupResource) bool {
	return (m.resource == "*" || m.resource == gr.Resource) && (m.group == "*" || m.group == gr.Group)
}

// provider is one configured provider with its keys, in file order.
type provider struct {
	name string // ProviderAESGCM, ProviderAESCBC or ProviderIdentity
	keys []cipherKey
}

// cipherKey is a named key ready to use: gcm for aesgcm, block for aescbc.
type cipherKey struct {
	name  string
	gcm   cipher.AEAD
	block cipher.Block
}

// compile validates ec and prepares its ciphers.
func compile(ec *EncryptionConfiguration) (*compiled, error) {
	if err := validateHeader(ec); err != nil {
		return nil, err
	}
	out := &compiled{}
	for i, rc := range ec.Resources {
		e, err := compileEntry(rc)
		if err != nil {
			return nil, fmt.Errorf("encryption configuration: resources[%d]: %w", i, err)
		}
		out.entries = append(out.entries, e)
	}
	return out, nil
}

func compileEntry(rc ResourceConfiguration) (entry, error) {
	var e entry
	if len(rc.Resources) == 0 {
		return e, fmt.Errorf("resources: must name at least one resource")
	}
	if len(rc.Providers) == 0 {
		return e, fmt.Errorf("providers: must list at least one provider")
	}
	for _, r := range rc.Resources {
		m, err := parseMatcher(r)
		if err != nil {
			return e, err
		}
		e.matchers = append(e.matchers, m)
	}
	names := map[string]bool{}
	for j, pc := range rc.Providers {
		p, err := compileProvider(pc)
		if err != nil {
			return e, fmt.Errorf("providers[%d]: %w", j, err)
		}
		for _, k := range p.keys {
			// The prefix names the provider and key: a name may repeat
			// across providers, not within one.
			id := p.name + ":" + k.name
			if names[id] {
				return e, fmt.Errorf("providers[%d]: duplicate %s key name %q", j, p.name, k.name)
			}
			names[id] = true
		}
		e.providers = append(e.providers, p)
	}
	return e, nil
}

// parseMatcher reads "secrets", "deployments.apps", "*.apps", "*." or "*.*".
func parseMatcher(s string) (matcher, error) {
	s = trimmed(s)
	resource, group, _ := strings.Cut(s, ".")
	if resource == "" || (resource != "*" && strings.Contains(resource, "*")) || (group != "*" && strings.Contains(group, "*")) {
		return matcher{}, fmt.Errorf("resources: %q is not a resource, resource.group, *.group or *.*", s)
	}
	return matcher{resource: resource, group: group}, nil
}

func compileProvider(pc ProviderConfiguration) (provider, error) {
	set := 0
	var p provider
	for _, present := range []bool{pc.AESGCM != nil, pc.AESCBC != nil, pc.Identity != nil, pc.Secretbox != nil, pc.KMS != nil} {
		if present {
			set++
		}
	}
	if set != 1 {
		return p, fmt.Errorf("exactly one provider must be set, found %d", set)
	}
	switch {
	case pc.Secretbox != nil:
		return p, fmt.Errorf("provider secretbox is not supported; use aesgcm or aescbc")
	case pc.KMS != nil:
		return p, fmt.Errorf("provider kms is not supported; use aesgcm or aescbc")
	case pc.Identity != nil:
		return provider{name: ProviderIdentity}, nil
	case pc.AESGCM != nil:
		p.name = ProviderAESGCM
		return p, p.addKeys(pc.AESGCM.Keys)
	default:
		p.name = ProviderAESCBC
		return p, p.addKeys(pc.AESCBC.Keys)
	}
}

func (p *provider) addKeys(keys []Key) error {
	if len(keys) == 0 {
		return fmt.Errorf("%s: %w", p.name, errNoKeys)
	}
	for _, k := range keys {
		secret, err := decodeKey(p.name, k)
		if err != nil {
			return err
		}
		ck := cipherKey{name: k.Name}
		if p.name == ProviderAESGCM {
			ck.gcm, err = newGCM(secret)
		} else {
			ck.block, err = aes.NewCipher(secret)
		}
		if err != nil {
			return fmt.Errorf("%s key %q: %w", p.name, k.Name, err)
		}
		p.keys = append(p.keys, ck)
	}
	return nil
}

// entryFor returns the index of the first entry covering gr, or -1.
func (c *compiled) entryFor(gr schema.GroupResource) int {
	for i, e := range c.entries {
		for _, m := range e.matchers {
			if m.matches(gr) {
				return i
			}
		}
	}
	return -1
}

// findKey returns the provider and key indexes of the named key.
func (e *entry) findKey(providerName, keyName string) (pi, ki int, ok bool) {
	for pi, p := range e.providers {
		if p.name != providerName {
			continue
		}
		for ki, k := range p.keys {
			if k.name == keyName {
				return pi, ki, true
			}
		}
	}
	return 0, 0, false
}

// hasIdentity reports whether the entry reads unencrypted values, and
// whether identity is its first provider (so it also writes them).
func (e *entry) hasIdentity() (reads, first bool) {
	for i, p := range e.providers {
		if p.name == ProviderIdentity {
			return true, i == 0
		}
	}
	return false, false
}
