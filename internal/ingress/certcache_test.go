package ingress

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func tlsSecret(t *testing.T, name, version string) *corev1.Secret {
	t.Helper()
	c, err := SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name), ResourceVersion: version},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
			corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
		},
	}
}

func tlsIngress(secret string) *networkingv1.Ingress {
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "tls"},
		Spec: networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{Hosts: []string{"a.example"}, SecretName: secret}}}}
}

func TestCertCacheReusesUnchangedSecrets(t *testing.T) {
	cache := NewCertCache()
	sec := tlsSecret(t, "s", "1")
	build := func(secs ...*corev1.Secret) *Table {
		t.Helper()
		tb, warnings := Build(Snapshot{Ingresses: []*networkingv1.Ingress{tlsIngress("s")}, Secrets: secs, Certs: cache})
		if len(secs) > 0 && len(warnings) > 0 {
			t.Fatalf("warnings: %v", warnings)
		}
		return tb
	}
	first := build(sec).Certificate("a.example")
	if first == nil {
		t.Fatal("no certificate for a.example")
	}
	if again := build(sec).Certificate("a.example"); again != first {
		t.Error("unchanged Secret parsed again")
	}
	changed := tlsSecret(t, "s", "2")
	second := build(changed).Certificate("a.example")
	if second == nil || second == first {
		t.Errorf("changed Secret not parsed again: %p (was %p)", second, first)
	}
	if der, _ := pem.Decode(changed.Data[corev1.TLSCertKey]); second != nil && string(der.Bytes) != string(second.Certificate[0]) {
		t.Error("certificate does not match the updated Secret")
	}
	build() // the Secret is gone: its entry is dropped
	if len(cache.entries) != 0 {
		t.Errorf("cache keeps %d entries for deleted Secrets", len(cache.entries))
	}
}

func TestCertCacheBadSecret(t *testing.T) {
	cache := NewCertCache()
	bad := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "s", ResourceVersion: "1"},
		Data: map[string][]byte{corev1.TLSCertKey: []byte("junk")}}
	for range 2 {
		tb, warnings := Build(Snapshot{Ingresses: []*networkingv1.Ingress{tlsIngress("s")}, Secrets: []*corev1.Secret{bad}, Certs: cache})
		if len(warnings) != 1 || tb.Certificate("a.example") != nil {
			t.Fatalf("bad Secret: warnings %v, certificate %v", warnings, tb.Certificate("a.example"))
		}
	}
}
