package serviceaccount

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"
)

func TestDiscoveryHandler(t *testing.T) {
	iss := newTestIssuer(t, &clock{t: testNow})
	tests := []struct {
		name, method, path, external string
		wantCode                     int
		wantType                     string
		wantJSON                     map[string]interface{}
	}{
		{name: "configuration", method: "GET", path: "/.well-known/openid-configuration", wantCode: 200, wantType: "application/json",
			wantJSON: map[string]interface{}{"issuer": DefaultIssuer, "jwks_uri": DefaultIssuer + "/openid/v1/jwks",
				"response_types_supported": []interface{}{"id_token"}, "subject_types_supported": []interface{}{"public"},
				"id_token_signing_alg_values_supported": []interface{}{"RS256"}}},
		{name: "configuration with external URL", method: "GET", path: "/.well-known/openid-configuration", external: "https://10.0.0.1:6443/",
			wantCode: 200, wantType: "application/json",
			wantJSON: map[string]interface{}{"issuer": DefaultIssuer, "jwks_uri": "https://10.0.0.1:6443/openid/v1/jwks",
				"response_types_supported": []interface{}{"id_token"}, "subject_types_supported": []interface{}{"public"},
				"id_token_signing_alg_values_supported": []interface{}{"RS256"}}},
		{name: "keys", method: "GET", path: "/openid/v1/jwks", wantCode: 200, wantType: "application/jwk-set+json"},
		{name: "head", method: "HEAD", path: "/openid/v1/jwks", wantCode: 200, wantType: "application/jwk-set+json"},
		{name: "post", method: "POST", path: "/openid/v1/jwks", wantCode: 405},
		{name: "other path", method: "GET", path: "/openid/v1/other", wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			DiscoveryHandler(iss, tt.external).ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.wantCode {
				t.Fatalf("code %d, want %d", w.Code, tt.wantCode)
			}
			if tt.wantType != "" && w.Header().Get("Content-Type") != tt.wantType {
				t.Fatalf("content type %q", w.Header().Get("Content-Type"))
			}
			if tt.wantJSON != nil {
				var got map[string]interface{}
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || !reflect.DeepEqual(got, tt.wantJSON) {
					t.Fatalf("body %s (%v)", w.Body, err)
				}
			}
		})
	}
}

// TestJWKSVerifiesTokens checks that a verifier knowing only the JWKS
// accepts our tokens, finding the key by kid.
func TestJWKSVerifiesTokens(t *testing.T) {
	iss := newTestIssuer(t, &clock{t: testNow})
	w := httptest.NewRecorder()
	DiscoveryHandler(iss, "").ServeHTTP(w, httptest.NewRequest("GET", JWKSPath, nil))
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s (%v)", w.Body, err)
	}
	k := set.Keys[0]
	if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || k["kid"] == "" {
		t.Fatalf("key %v", k)
	}
	n, err1 := base64.RawURLEncoding.DecodeString(k["n"])
	e, err2 := base64.RawURLEncoding.DecodeString(k["e"])
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	sa := &corev1.ServiceAccount{ObjectMeta: meta("ns", "builder", "sa-uid")}
	token, err := iss.Legacy(sa, &corev1.Secret{ObjectMeta: meta("ns", "s", "")})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (interface{}, error) {
		if tok.Header["kid"] != k["kid"] {
			t.Errorf("token kid %v, jwks kid %v", tok.Header["kid"], k["kid"])
		}
		return pub, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := jwt.MapClaims{"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:ns:builder",
		"kubernetes.io/serviceaccount/namespace": "ns", "kubernetes.io/serviceaccount/secret.name": "s",
		"kubernetes.io/serviceaccount/service-account.name": "builder", "kubernetes.io/serviceaccount/service-account.uid": "sa-uid"}
	if !reflect.DeepEqual(claims, want) {
		t.Fatalf("legacy claims %v", claims)
	}
}
