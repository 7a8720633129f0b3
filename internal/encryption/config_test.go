package encryption

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func timeAt(unix int64) time.Time { return time.Unix(unix, 0) }

func TestEnsureCreatesThenLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, err := Ensure(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file %v mode %v, want 0600", err, fi.Mode())
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{"apiVersion: apiserver.config.k8s.io/v1", "kind: EncryptionConfiguration", "- secrets", "aesgcm:", "name: aesgcm-", "identity: {}"} {
		if !strings.Contains(string(data), want) {
			t.Fatalf("file lacks %q:\n%s", want, data)
		}
	}
	keys := c.File().Resources[0].Providers[0].AESGCM.Keys
	if len(keys) != 1 {
		t.Fatalf("keys = %v", keys)
	}
	again, err := Ensure(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.File().Resources[0].Providers[0].AESGCM.Keys; !reflect.DeepEqual(got, keys) {
		t.Fatalf("second Ensure changed the key: %v vs %v", got, keys)
	}
	if c.Transformer(secrets) == nil {
		t.Fatal("default configuration does not encrypt secrets")
	}
}

func TestParseRejects(t *testing.T) {
	const header = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
	k32 := "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" // 32 bytes
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"wrong kind", "apiVersion: v1\nkind: Config\nresources: []\n", "want EncryptionConfiguration"},
		{"secretbox", header + "resources:\n- resources: [secrets]\n  providers:\n  - secretbox: {keys: [{name: a, secret: " + k32 + "}]}\n", "secretbox is not supported"},
		{"two providers in one", header + "resources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n    aesgcm: {keys: [{name: a, secret: " + k32 + "}]}\n", "exactly one provider"},
		{"short cbc key", header + "resources:\n- resources: [secrets]\n  providers:\n  - aescbc: {keys: [{name: a, secret: AQEBAQEBAQEBAQEBAQEBAQ==}]}\n", "want 32"},
		{"bad base64", header + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: a, secret: '!!'}]}\n", "not valid base64"},
		{"duplicate name", header + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: a, secret: " + k32 + "}, {name: a, secret: " + k32 + "}]}\n", "duplicate"},
		{"no keys", header + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: []}\n", "no keys"},
		{"colon in name", header + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: 'a:b', secret: " + k32 + "}]}\n", "no ':'"},
		{"no providers", header + "resources:\n- resources: [secrets]\n  providers: []\n", "at least one provider"},
		{"unknown field", header + "resources:\n- resources: [secrets]\n  provider: []\n", "unknown field"},
		{"bad resource", header + "resources:\n- resources: ['sec*']\n  providers: [{identity: {}}]\n", "is not a resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
	ok := header + "resources:\n- resources: [configmaps, '*.apps']\n  providers: [{aescbc: {keys: [{name: c, secret: " + k32 + "}]}}]\n- resources: [secrets]\n  providers: [{identity: {}}]\n"
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("valid configuration rejected: %v", err)
	}
}

func TestResourceMatching(t *testing.T) {
	ec := &EncryptionConfiguration{Kind: Kind, APIVersion: APIVersion, Resources: []ResourceConfiguration{
		{Resources: []string{"secrets"}, Providers: []ProviderConfiguration{gcmProvider(fixedKey("a", 1, 32))}},
		{Resources: []string{"*.apps"}, Providers: []ProviderConfiguration{identity}},
		{Resources: []string{"*.*"}, Providers: []ProviderConfiguration{gcmProvider(fixedKey("b", 1, 32))}},
	}}
	cc, err := compile(ec)
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{file: ec, compiled: cc}
	tests := []struct {
		group, resource string
		wantEntry       int
		wantTransformer bool
	}{
		{"", "secrets", 0, true},
		{"apps", "deployments", 1, false}, // identity only
		{"", "configmaps", 2, true},
		{"example.com", "secrets", 2, true},
	}
	for _, tt := range tests {
		gr := schemaGR(tt.group, tt.resource)
		if got := cc.entryFor(gr); got != tt.wantEntry {
			t.Errorf("%v: entry %d, want %d", gr, got, tt.wantEntry)
		}
		if got := c.Transformer(gr) != nil; got != tt.wantTransformer {
			t.Errorf("%v: transformer %v, want %v", gr, got, tt.wantTransformer)
		}
	}
}

func TestRotationEdits(t *testing.T) {
	base := DefaultConfiguration(fixedKey("aesgcm-5", 1, 32))
	withNew, key, err := addPrimaryKey(cloneConfiguration(base), secrets, timeAt(5))
	if err != nil {
		t.Fatal(err)
	}
	if key.Name != "aesgcm-5-1" {
		t.Fatalf("new key %q, want a name distinct from the existing aesgcm-5", key.Name)
	}
	providers := withNew.Resources[0].Providers
	if names := keyNames(providers[0]); !reflect.DeepEqual(names, []string{"aesgcm-5-1", "aesgcm-5"}) {
		t.Fatalf("keys after adding = %v", names)
	}
	if len(base.Resources[0].Providers[0].AESGCM.Keys) != 1 {
		t.Fatal("addPrimaryKey changed its caller's configuration")
	}
	final, removed := keepOnlyPrimary(withNew, secrets)
	if !reflect.DeepEqual(removed, []string{"aesgcm-5"}) || len(final.Resources[0].Providers) != 2 ||
		!reflect.DeepEqual(keyNames(final.Resources[0].Providers[0]), []string{"aesgcm-5-1"}) || final.Resources[0].Providers[1].Identity == nil {
		t.Fatalf("after removing: %+v, removed %v", final.Resources[0].Providers, removed)
	}

	// From aescbc: a new aesgcm provider goes first, aescbc is dropped at
	// the end.
	cbc := &EncryptionConfiguration{Kind: Kind, APIVersion: APIVersion, Resources: []ResourceConfiguration{{
		Resources: []string{"secrets"}, Providers: []ProviderConfiguration{cbcProvider(fixedKey("c", 1, 32)), identity}}}}
	withNew, _, err = addPrimaryKey(cloneConfiguration(cbc), secrets, timeAt(7))
	if err != nil || withNew.Resources[0].Providers[0].AESGCM == nil || withNew.Resources[0].Providers[1].AESCBC == nil {
		t.Fatalf("from aescbc: %+v, %v", withNew, err)
	}
	final, removed = keepOnlyPrimary(withNew, secrets)
	if !reflect.DeepEqual(removed, []string{"c"}) || len(final.Resources[0].Providers) != 2 {
		t.Fatalf("from aescbc, after removing: %+v, removed %v", final.Resources[0].Providers, removed)
	}

	shared := &EncryptionConfiguration{Kind: Kind, APIVersion: APIVersion, Resources: []ResourceConfiguration{{
		Resources: []string{"secrets", "configmaps"}, Providers: []ProviderConfiguration{gcmProvider(fixedKey("a", 1, 32))}}}}
	if _, _, err := addPrimaryKey(shared, secrets, timeAt(1)); err == nil || !strings.Contains(err.Error(), "also covers") {
		t.Fatalf("shared entry: %v, want refusal", err)
	}
	none := &EncryptionConfiguration{Kind: Kind, APIVersion: APIVersion}
	if _, _, err := addPrimaryKey(none, secrets, timeAt(1)); err == nil {
		t.Fatal("rotation without a secrets entry succeeded")
	}
}

func keyNames(p ProviderConfiguration) []string {
	_, keys := providerKeys(p)
	var out []string
	for _, k := range keys {
		out = append(out, k.Name)
	}
	return out
}
