package encryption

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

var secrets = schema.GroupResource{Resource: "secrets"}

// fixedKey returns a key whose secret is n bytes of b.
func fixedKey(name string, b byte, n int) Key {
	return Key{Name: name, Secret: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, n))}
}

// testEntry compiles a single-entry configuration for secrets.
func testEntry(t *testing.T, providers ...ProviderConfiguration) *entry {
	t.Helper()
	cc, err := compile(&EncryptionConfiguration{Kind: Kind, APIVersion: APIVersion,
		Resources: []ResourceConfiguration{{Resources: []string{"secrets"}, Providers: providers}}})
	if err != nil {
		t.Fatal(err)
	}
	return &cc.entries[0]
}

func gcmProvider(keys ...Key) ProviderConfiguration {
	return ProviderConfiguration{AESGCM: &AESConfiguration{Keys: keys}}
}

func cbcProvider(keys ...Key) ProviderConfiguration {
	return ProviderConfiguration{AESCBC: &AESConfiguration{Keys: keys}}
}

var identity = ProviderConfiguration{Identity: &IdentityConfiguration{}}

const etcdKey = "/registry/core/secrets/ns/s"

func TestEncryptDecryptRoundTrip(t *testing.T) {
	plain := []byte(`{"data":{"password":"aHVudGVyMg=="}}`)
	for _, p := range []ProviderConfiguration{gcmProvider(fixedKey("k1", 1, 32)), gcmProvider(fixedKey("k1", 1, 16)), cbcProvider(fixedKey("k1", 1, 32))} {
		e := testEntry(t, p, identity)
		name := e.providers[0].name
		t.Run(name, func(t *testing.T) {
			stored, err := encryptValue(e, plain, etcdKey)
			if err != nil {
				t.Fatal(err)
			}
			if want := "k8s:enc:" + name + ":v1:k1:"; !strings.HasPrefix(string(stored), want) {
				t.Fatalf("stored %q lacks prefix %q", stored, want)
			}
			if bytes.Contains(stored, []byte("password")) || bytes.Contains(stored, []byte("aHVudGVyMg")) {
				t.Fatalf("stored value shows the plaintext: %q", stored)
			}
			again, _ := encryptValue(e, plain, etcdKey)
			if bytes.Equal(stored, again) {
				t.Fatal("two encryptions are identical: nonce or IV not random")
			}
			got, stale, err := decryptValue(e, stored, etcdKey)
			if err != nil || stale || !bytes.Equal(got, plain) {
				t.Fatalf("decrypt = %q, stale %v, %v", got, stale, err)
			}
		})
	}
}

func TestDecryptFailures(t *testing.T) {
	plain := []byte(`{"kind":"Secret"}`)
	writer := testEntry(t, gcmProvider(fixedKey("k1", 1, 32)), identity)
	stored, err := encryptValue(writer, plain, etcdKey)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(stored)
	tampered[len(tampered)-1] ^= 1
	renamed := bytes.Replace(stored, []byte(":k1:"), []byte(":k2:"), 1)
	tests := []struct {
		name    string
		reader  *entry
		stored  []byte
		key     string
		wantErr string
	}{
		{"unknown key name", testEntry(t, gcmProvider(fixedKey("k2", 1, 32))), stored, etcdKey, `no aesgcm key named "k1"`},
		{"same name, other secret", testEntry(t, gcmProvider(fixedKey("k1", 2, 32))), stored, etcdKey, "message authentication failed"},
		{"tampered ciphertext", writer, tampered, etcdKey, "message authentication failed"},
		{"copied to another key", writer, stored, "/registry/core/secrets/ns/other", "message authentication failed"},
		{"key name changed", testEntry(t, gcmProvider(fixedKey("k2", 1, 32), fixedKey("k1", 1, 32))), renamed, etcdKey, ""},
		{"plain without identity", testEntry(t, gcmProvider(fixedKey("k1", 1, 32))), plain, etcdKey, "no matching prefix found"},
		{"malformed prefix", writer, []byte("k8s:enc:aesgcm:v9:k1:xx"), etcdKey, "malformed"},
		{"truncated", writer, stored[:len("k8s:enc:aesgcm:v1:k1:")+4], etcdKey, "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := decryptValue(tt.reader, tt.stored, tt.key)
			if tt.wantErr == "" {
				// k2 holds k1's secret: the prefix names k2, the
				// data decrypts, and the key (AAD) still binds.
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("decrypt = %q, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q (got %q)", err, tt.wantErr, got)
			}
		})
	}
}

func TestStaleness(t *testing.T) {
	plain := []byte(`{"kind":"Secret"}`)
	old := testEntry(t, gcmProvider(fixedKey("old", 1, 32)))
	byOld, _ := encryptValue(old, plain, etcdKey)
	cbc := testEntry(t, cbcProvider(fixedKey("c", 3, 32)))
	byCBC, _ := encryptValue(cbc, plain, etcdKey)
	rotated := testEntry(t, gcmProvider(fixedKey("new", 2, 32), fixedKey("old", 1, 32)), cbcProvider(fixedKey("c", 3, 32)), identity)
	byNew, _ := encryptValue(rotated, plain, etcdKey)
	decrypting := testEntry(t, identity, gcmProvider(fixedKey("old", 1, 32)))
	tests := []struct {
		name      string
		reader    *entry
		stored    []byte
		wantStale bool
	}{
		{"primary key", rotated, byNew, false},
		{"second key of primary provider", rotated, byOld, true},
		{"later provider", rotated, byCBC, true},
		{"unencrypted while encrypting", rotated, plain, true},
		{"unencrypted with identity first", decrypting, plain, false},
		{"encrypted with identity first", decrypting, byOld, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stale, err := decryptValue(tt.reader, tt.stored, etcdKey)
			if err != nil || !bytes.Equal(got, plain) || stale != tt.wantStale {
				t.Fatalf("decrypt = %q, stale %v, %v; want stale %v", got, stale, err, tt.wantStale)
			}
		})
	}
}

// TestAESCBCKubernetesFormat decrypts a value built independently in
// Kubernetes' aescbc layout: IV, then PKCS#7-padded CBC ciphertext.
func TestAESCBCKubernetesFormat(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	plain := []byte("sixteen byte msg") // a whole block: a full block of padding follows
	block, _ := aes.NewCipher(secret)
	iv := bytes.Repeat([]byte{9}, aes.BlockSize)
	padded := append(bytes.Clone(plain), bytes.Repeat([]byte{16}, 16)...)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	stored := append([]byte("k8s:enc:aescbc:v1:key1:"), append(iv, ct...)...)

	e := testEntry(t, cbcProvider(Key{Name: "key1", Secret: base64.StdEncoding.EncodeToString(secret)}))
	got, stale, err := decryptValue(e, stored, etcdKey)
	if err != nil || stale || !bytes.Equal(got, plain) {
		t.Fatalf("decrypt = %q, stale %v, %v", got, stale, err)
	}
	bad := bytes.Clone(stored)
	bad[len(bad)-1] ^= 0xff // corrupts the last block, hence the padding
	if _, _, err := decryptValue(e, bad, etcdKey); err == nil {
		t.Fatal("corrupted aescbc value decrypted")
	}
}

func TestTransformerFollowsLiveConfig(t *testing.T) {
	c := &Config{}
	ec := DefaultConfiguration(fixedKey("k1", 1, 32))
	cc, err := compile(ec)
	if err != nil {
		t.Fatal(err)
	}
	c.replace(ec, cc)
	tr := c.Transformer(secrets)
	if tr == nil {
		t.Fatal("no transformer for secrets")
	}
	if c.Transformer(schema.GroupResource{Resource: "configmaps"}) != nil {
		t.Fatal("transformer for an uncovered resource")
	}
	stored, err := tr.ToStorage([]byte("x"), etcdKey)
	if err != nil {
		t.Fatal(err)
	}
	next, _, err := addPrimaryKey(cloneConfiguration(ec), secrets, timeAt(100))
	if err != nil {
		t.Fatal(err)
	}
	ncc, err := compile(next)
	if err != nil {
		t.Fatal(err)
	}
	c.replace(next, ncc)
	if _, stale, err := tr.FromStorage(stored, etcdKey); err != nil || !stale {
		t.Fatalf("old value after the swap: stale %v, %v; want stale", stale, err)
	}
	fresh, _ := tr.ToStorage([]byte("x"), etcdKey)
	if !strings.HasPrefix(string(fresh), "k8s:enc:aesgcm:v1:aesgcm-100:") {
		t.Fatalf("new write %q not under the new key", fresh)
	}
}

func schemaGR(group, resource string) schema.GroupResource {
	return schema.GroupResource{Group: group, Resource: resource}
}
