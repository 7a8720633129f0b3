package serviceaccount

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/skiff-io/skiff/internal/auth/user"
	corev1 "k8s.io/api/core/v1"
)

// Issuer names and audiences Kubernetes uses by default and for legacy
// Secret-based tokens.
const (
	DefaultIssuer = "https://kubernetes.default.svc.cluster.local"
	LegacyIssuer  = "kubernetes/serviceaccount"
)

// IssuerConfig configures an Issuer.
type IssuerConfig struct {
	// Key signs tokens; its public half verifies them (required).
	Key *rsa.PrivateKey
	// Issuer is the "iss" of bound tokens (default DefaultIssuer).
	Issuer string
	// APIAudiences are the audiences the API server accepts, and those
	// of a TokenRequest that names none (default [Issuer]).
	APIAudiences []string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Issuer signs and verifies service account tokens with one RSA key.
// It is safe for concurrent use.
type Issuer struct {
	key       *rsa.PrivateKey
	keyID     string
	issuer    string
	audiences []string
	now       func() time.Time
}

// New returns an Issuer for cfg, filling in its defaults.
func New(cfg IssuerConfig) (*Issuer, error) {
	if cfg.Key == nil {
		return nil, errors.New("service account issuer: a signing key is required")
	}
	kid, err := keyID(&cfg.Key.PublicKey)
	if err != nil {
		return nil, err
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if len(cfg.APIAudiences) == 0 {
		cfg.APIAudiences = []string{cfg.Issuer}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Issuer{key: cfg.Key, keyID: kid, issuer: cfg.Issuer,
		audiences: append([]string(nil), cfg.APIAudiences...), now: cfg.Now}, nil
}

// IssuerURL is the "iss" of the bound tokens this Issuer signs.
func (i *Issuer) IssuerURL() string { return i.issuer }

// APIAudiences are the audiences the API server accepts. The caller must
// not modify the slice.
func (i *Issuer) APIAudiences() []string { return i.audiences }

// refClaim names an object a token is bound to.
type refClaim struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// kubernetesClaims is the private "kubernetes.io" claim of bound tokens.
type kubernetesClaims struct {
	Namespace      string           `json:"namespace,omitempty"`
	ServiceAccount refClaim         `json:"serviceaccount,omitempty"`
	Pod            *refClaim        `json:"pod,omitempty"`
	Secret         *refClaim        `json:"secret,omitempty"`
	Node           *refClaim        `json:"node,omitempty"`
	WarnAfter      *jwt.NumericDate `json:"warnafter,omitempty"`
}

// tokenClaims is every claim Skiff reads or writes, for both bound tokens
// (Kubernetes) and legacy tokens (the flat kubernetes.io/serviceaccount/*
// claims).
type tokenClaims struct {
	jwt.RegisteredClaims
	Kubernetes *kubernetesClaims `json:"kubernetes.io,omitempty"`

	LegacyNamespace          string `json:"kubernetes.io/serviceaccount/namespace,omitempty"`
	LegacySecretName         string `json:"kubernetes.io/serviceaccount/secret.name,omitempty"`
	LegacyServiceAccountName string `json:"kubernetes.io/serviceaccount/service-account.name,omitempty"`
	LegacyServiceAccountUID  string `json:"kubernetes.io/serviceaccount/service-account.uid,omitempty"`
}

// Username is a service account's user name:
// system:serviceaccount:<namespace>:<name>.
func Username(namespace, name string) string {
	return user.ServiceAccountPrefix + namespace + ":" + name
}

// sign returns the signed compact JWT of claims.
func (i *Issuer) sign(claims *tokenClaims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = i.keyID
	s, err := tok.SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("signing service account token: %w", err)
	}
	return s, nil
}

// boundClaims are the claims of a bound token for sa, valid from now for
// expiration, bound to the objects given (each may be nil).
func (i *Issuer) boundClaims(sa *corev1.ServiceAccount, audiences []string, now time.Time, expiration time.Duration, pod, secret, node *refClaim) *tokenClaims {
	return &tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   Username(sa.Namespace, sa.Name),
			Audience:  jwt.ClaimStrings(append([]string(nil), audiences...)),
			ExpiresAt: jwt.NewNumericDate(now.Add(expiration)),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
		Kubernetes: &kubernetesClaims{
			Namespace:      sa.Namespace,
			ServiceAccount: refClaim{Name: sa.Name, UID: string(sa.UID)},
			Pod:            pod,
			Secret:         secret,
			Node:           node,
		},
	}
}

// Legacy returns a legacy, non-expiring token for sa stored in secret (a
// kubernetes.io/service-account-token Secret): issuer
// kubernetes/serviceaccount, no audience, the flat legacy claims. It stays
// valid only while that Secret holds it and the ServiceAccount exists.
func (i *Issuer) Legacy(sa *corev1.ServiceAccount, secret *corev1.Secret) (string, error) {
	if sa.Namespace != secret.Namespace {
		return "", fmt.Errorf("service account %s/%s and secret %s/%s are in different namespaces", sa.Namespace, sa.Name, secret.Namespace, secret.Name)
	}
	return i.sign(&tokenClaims{
		RegisteredClaims:         jwt.RegisteredClaims{Issuer: LegacyIssuer, Subject: Username(sa.Namespace, sa.Name)},
		LegacyNamespace:          sa.Namespace,
		LegacySecretName:         secret.Name,
		LegacyServiceAccountName: sa.Name,
		LegacyServiceAccountUID:  string(sa.UID),
	})
}
