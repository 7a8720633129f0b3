package serviceaccount

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
)

// OpenID discovery paths, as Kubernetes serves them.
const (
	OpenIDConfigurationPath = "/.well-known/openid-configuration"
	JWKSPath                = "/openid/v1/jwks"
)

// openIDConfiguration is the subset of OpenID Connect discovery metadata
// Kubernetes publishes for service account tokens.
type openIDConfiguration struct {
	Issuer        string   `json:"issuer"`
	JWKSURI       string   `json:"jwks_uri"`
	ResponseTypes []string `json:"response_types_supported"`
	SubjectTypes  []string `json:"subject_types_supported"`
	SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
}

// jwk is an RSA public signing key in JWK form (RFC 7517, 7518).
type jwk struct {
	KeyType   string `json:"kty"`
	Algorithm string `json:"alg"`
	Use       string `json:"use"`
	KeyID     string `json:"kid"`
	Modulus   string `json:"n"`
	Exponent  string `json:"e"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// DiscoveryHandler serves OpenIDConfigurationPath and JWKSPath so that
// other parties can verify iss's bound tokens. jwks_uri is externalURL +
// JWKSPath when externalURL is set (the URL clients reach this server at,
// as Kubernetes uses its external address; e.g. "https://10.0.0.1:6443"),
// and otherwise the issuer + JWKSPath. Other paths are 404; methods other
// than GET and HEAD are 405. Both documents may be cached for an hour.
func DiscoveryHandler(iss *Issuer, externalURL string) http.Handler {
	base := strings.TrimSuffix(iss.issuer, "/")
	if externalURL != "" {
		base = strings.TrimSuffix(externalURL, "/")
	}
	config, configErr := json.Marshal(openIDConfiguration{
		Issuer:        iss.issuer,
		JWKSURI:       base + JWKSPath,
		ResponseTypes: []string{"id_token"},
		SubjectTypes:  []string{"public"},
		SigningAlgs:   []string{"RS256"},
	})
	pub := &iss.key.PublicKey
	keys, keysErr := json.Marshal(jwkSet{Keys: []jwk{{
		KeyType: "RSA", Algorithm: "RS256", Use: "sig", KeyID: iss.keyID,
		Modulus:  base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		Exponent: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		var contentType string
		switch r.URL.Path {
		case OpenIDConfigurationPath:
			body, contentType = config, "application/json"
			if configErr != nil {
				http.Error(w, configErr.Error(), http.StatusInternalServerError)
				return
			}
		case JWKSPath:
			body, contentType = keys, "application/jwk-set+json"
			if keysErr != nil {
				http.Error(w, keysErr.Error(), http.StatusInternalServerError)
				return
			}
		default:
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}
