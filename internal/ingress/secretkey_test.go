package ingress

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

func TestSecretKey(t *testing.T) {
	tlsTyped := &corev1.Secret{Type: corev1.SecretTypeTLS}
	opaqueCert := &corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{corev1.TLSCertKey: []byte("x")}}
	token := &corev1.Secret{Type: corev1.SecretTypeServiceAccountToken, Data: map[string][]byte{"token": []byte("x")}}
	tests := []struct {
		name string
		obj  interface{}
		want bool
	}{
		{"kubernetes.io/tls", tlsTyped, true},
		{"opaque with tls.crt", opaqueCert, true},
		{"token", token, false},
		{"deleted tls", cache.DeletedFinalStateUnknown{Key: "ns/s", Obj: tlsTyped}, true},
		{"deleted token", cache.DeletedFinalStateUnknown{Key: "ns/t", Obj: token}, false},
		{"unknown object", "x", true},
	}
	for _, tt := range tests {
		key, ok := secretKey(tt.obj)
		if ok != tt.want || (ok && key != tableKey) {
			t.Errorf("%s: secretKey = %q, %v; want %v", tt.name, key, ok, tt.want)
		}
	}
}
