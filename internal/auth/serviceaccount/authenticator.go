package serviceaccount

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/skiff-io/skiff/internal/auth/authn"
	"github.com/skiff-io/skiff/internal/auth/user"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Leeway is the clock skew tolerated on exp, nbf and iat, and how long
// after its deletion timestamp an object still validates tokens bound to
// it (Kubernetes' value).
const Leeway = time.Minute

// LegacyTokenInvalidSinceLabel on a legacy token's Secret disables the
// token (Kubernetes' legacy token clean-up marks unused tokens with it).
const LegacyTokenInvalidSinceLabel = "kubernetes.io/legacy-token-invalid-since"

// Getters read the objects a token refers to, typically from the API
// server's cache. Each returns an apimachinery NotFound error when the
// object does not exist.
type Getters struct {
	ServiceAccount func(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
	Secret         func(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	Pod            func(ctx context.Context, namespace, name string) (*corev1.Pod, error)
	Node           func(ctx context.Context, name string) (*corev1.Node, error)
}

// Authenticator verifies bound and legacy service account tokens signed by
// iss. A token that is not a JWT, or that another issuer signed, is not
// ours (nil, false, nil); a token claiming our issuer that fails any check
// is an error. Checks, as Kubernetes does them: RS256 signature by iss's
// key; for bound tokens exp/nbf/iat within Leeway, an audience among the
// API audiences, the ServiceAccount (and a bound Pod, Secret or Node)
// still existing with the UID of the claims and not deleted more than
// Leeway ago — a pod being gracefully deleted keeps its tokens valid until
// shortly after its deletion timestamp; for legacy tokens, the Secret they
// name holding exactly this token.
func Authenticator(iss *Issuer, getters Getters) authn.Token {
	getters = getters.orUnavailable()
	return authn.TokenFunc(func(ctx context.Context, token string) (*user.Info, bool, error) {
		claims, ok := iss.parseOurs(token)
		if !ok {
			return nil, false, nil
		}
		if err := iss.verifySignature(token); err != nil {
			return nil, false, err
		}
		var u *user.Info
		var err error
		if claims.Issuer == LegacyIssuer {
			u, err = validateLegacy(ctx, getters, claims, token)
		} else {
			u, err = iss.validateBound(ctx, getters, claims)
		}
		if err != nil {
			return nil, false, err
		}
		return u, true, nil
	})
}

// errNoGetter fails the lookups the caller gave no getter for, so that a
// token needing them is refused instead of crashing the server.
var errNoGetter = errors.New("object lookup is not configured")

// orUnavailable returns g with nil getters replaced by ones that fail.
func (g Getters) orUnavailable() Getters {
	if g.ServiceAccount == nil {
		g.ServiceAccount = func(context.Context, string, string) (*corev1.ServiceAccount, error) { return nil, errNoGetter }
	}
	if g.Secret == nil {
		g.Secret = func(context.Context, string, string) (*corev1.Secret, error) { return nil, errNoGetter }
	}
	if g.Pod == nil {
		g.Pod = func(context.Context, string, string) (*corev1.Pod, error) { return nil, errNoGetter }
	}
	if g.Node == nil {
		g.Node = func(context.Context, string) (*corev1.Node, error) { return nil, errNoGetter }
	}
	return g
}

// parseOurs decodes token's claims without verifying it, and reports
// whether it is a JWT one of our issuers claims to have signed.
func (i *Issuer) parseOurs(token string) (*tokenClaims, bool) {
	if strings.Count(token, ".") != 2 {
		return nil, false
	}
	claims := &tokenClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		return nil, false
	}
	return claims, claims.Issuer == i.issuer || claims.Issuer == LegacyIssuer
}

// verifySignature checks that our key signed token with RS256.
func (i *Issuer) verifySignature(token string) error {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}), jwt.WithoutClaimsValidation())
	_, err := parser.ParseWithClaims(token, &tokenClaims{}, func(*jwt.Token) (interface{}, error) {
		return &i.key.PublicKey, nil
	})
	if err != nil {
		return fmt.Errorf("service account token could not be verified: %w", err)
	}
	return nil
}

// validateTimes checks exp, nbf and iat against now with Leeway.
func validateTimes(c *tokenClaims, now time.Time) error {
	switch {
	case c.ExpiresAt != nil && now.Add(-Leeway).After(c.ExpiresAt.Time):
		return errors.New("service account token has expired")
	case c.NotBefore != nil && now.Add(Leeway).Before(c.NotBefore.Time):
		return errors.New("service account token is not valid yet")
	case c.IssuedAt != nil && now.Add(Leeway).Before(c.IssuedAt.Time):
		return errors.New("service account token is issued in the future")
	}
	return nil
}

// isDeletedBefore reports whether an object's deletion timestamp is set
// and older than cutoff: Kubernetes keeps honouring tokens of an object
// in graceful deletion until shortly after its deletion time.
func isDeletedBefore(deletion *metav1.Time, cutoff time.Time) bool {
	return deletion != nil && deletion.Time.Before(cutoff)
}

// validateBound checks a bound token's claims against the live objects.
func (i *Issuer) validateBound(ctx context.Context, g Getters, c *tokenClaims) (*user.Info, error) {
	k := c.Kubernetes
	if k == nil || k.Namespace == "" || k.ServiceAccount.Name == "" {
		return nil, errors.New("service account token could not be validated: kubernetes.io claims are missing")
	}
	if c.Subject != Username(k.Namespace, k.ServiceAccount.Name) {
		return nil, errors.New("service account token could not be validated: sub claim is invalid")
	}
	now := i.now()
	if err := validateTimes(c, now); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(i.audiences, a) }) {
		return nil, fmt.Errorf("token audiences %q is invalid for the target audiences %q", []string(c.Audience), i.audiences)
	}
	cutoff := now.Add(-Leeway)
	sa, err := g.ServiceAccount(ctx, k.Namespace, k.ServiceAccount.Name)
	if err != nil {
		return nil, fmt.Errorf("service account %s/%s: %w", k.Namespace, k.ServiceAccount.Name, err)
	}
	if string(sa.UID) != k.ServiceAccount.UID {
		return nil, fmt.Errorf("service account UID (%s) does not match claim (%s)", sa.UID, k.ServiceAccount.UID)
	}
	if isDeletedBefore(sa.DeletionTimestamp, cutoff) {
		return nil, fmt.Errorf("service account %s/%s has been deleted", k.Namespace, k.ServiceAccount.Name)
	}
	if r := k.Secret; r != nil {
		secret, err := g.Secret(ctx, k.Namespace, r.Name)
		if err != nil {
			return nil, fmt.Errorf("service account token has been invalidated: %w", err)
		}
		if err := checkBound("secret", r, secret.UID, secret.DeletionTimestamp, cutoff); err != nil {
			return nil, err
		}
	}
	u := serviceAccountUser(k.Namespace, k.ServiceAccount.Name, sa.UID)
	if r := k.Pod; r != nil {
		pod, err := g.Pod(ctx, k.Namespace, r.Name)
		if err != nil {
			return nil, fmt.Errorf("service account token has been invalidated: %w", err)
		}
		if err := checkBound("pod", r, pod.UID, pod.DeletionTimestamp, cutoff); err != nil {
			return nil, err
		}
		u.Extra[user.ExtraPodName] = []string{r.Name}
		u.Extra[user.ExtraPodUID] = []string{r.UID}
	}
	if r := k.Node; r != nil {
		// A pod-bound token carries its pod's node for information only:
		// the pod is what binds it. A node-bound token needs the node.
		if k.Pod == nil {
			node, err := g.Node(ctx, r.Name)
			if err != nil {
				return nil, fmt.Errorf("service account token has been invalidated: %w", err)
			}
			if err := checkBound("node", r, node.UID, node.DeletionTimestamp, cutoff); err != nil {
				return nil, err
			}
		}
		u.Extra[user.ExtraNodeName] = []string{r.Name}
		if r.UID != "" {
			u.Extra[user.ExtraNodeUID] = []string{r.UID}
		}
	}
	if c.ID != "" {
		u.Extra[user.ExtraCredentialID] = []string{"JTI=" + c.ID}
	}
	return u, nil
}

// checkBound checks a bound object's claim against the live object.
func checkBound(kind string, claim *refClaim, uid types.UID, deletion *metav1.Time, cutoff time.Time) error {
	if string(uid) != claim.UID {
		return fmt.Errorf("%s UID (%s) does not match service account %s ref claim (%s)", kind, uid, kind, claim.UID)
	}
	if isDeletedBefore(deletion, cutoff) {
		return errors.New("service account token has been invalidated")
	}
	return nil
}

// validateLegacy checks a legacy token against the Secret that holds it
// and its ServiceAccount.
func validateLegacy(ctx context.Context, g Getters, c *tokenClaims, token string) (*user.Info, error) {
	ns, secretName, saName, saUID := c.LegacyNamespace, c.LegacySecretName, c.LegacyServiceAccountName, c.LegacyServiceAccountUID
	if ns == "" || secretName == "" || saName == "" || saUID == "" {
		return nil, errors.New("legacy service account token could not be validated: claims are missing")
	}
	if c.Subject != Username(ns, saName) {
		return nil, errors.New("legacy service account token could not be validated: sub claim is invalid")
	}
	secret, err := g.Secret(ctx, ns, secretName)
	if err != nil {
		return nil, fmt.Errorf("token has been invalidated: %w", err)
	}
	if secret.DeletionTimestamp != nil || secret.Type != corev1.SecretTypeServiceAccountToken {
		return nil, errors.New("token has been invalidated")
	}
	if subtle.ConstantTimeCompare(secret.Data[corev1.ServiceAccountTokenKey], []byte(token)) != 1 {
		return nil, errors.New("token does not match server's copy")
	}
	if secret.Labels[LegacyTokenInvalidSinceLabel] != "" {
		return nil, fmt.Errorf("the token in secret %s/%s for service account %s/%s has been marked invalid. Use tokens from the TokenRequest API or manually created secret-based tokens, or remove the '%s' label from the secret to regain access",
			ns, secretName, ns, saName, LegacyTokenInvalidSinceLabel)
	}
	sa, err := g.ServiceAccount(ctx, ns, saName)
	if err != nil {
		return nil, fmt.Errorf("service account %s/%s: %w", ns, saName, err)
	}
	if sa.DeletionTimestamp != nil {
		return nil, fmt.Errorf("service account %s/%s has been deleted", ns, saName)
	}
	if string(sa.UID) != saUID {
		return nil, fmt.Errorf("service account UID (%s) does not match claim (%s)", sa.UID, saUID)
	}
	return serviceAccountUser(ns, saName, sa.UID), nil
}

// serviceAccountUser is the user a service account's token authenticates.
func serviceAccountUser(namespace, name string, uid types.UID) *user.Info {
	return &user.Info{
		Name:   Username(namespace, name),
		UID:    string(uid),
		Groups: []string{user.ServiceAccountsGroup, user.ServiceAccountsGroup + ":" + namespace},
		Extra:  map[string][]string{},
	}
}
