package authn

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/skiff-io/skiff/internal/auth/user"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Bootstrap token Secrets, as Kubernetes defines them.
const (
	BootstrapTokenSecretType   corev1.SecretType = "bootstrap.kubernetes.io/token"
	BootstrapTokenSecretPrefix                   = "bootstrap-token-"
	bootstrapTokenIDKey                          = "token-id"
	bootstrapTokenSecretKey                      = "token-secret"
	bootstrapExpirationKey                       = "expiration"
	bootstrapUsageAuthKey                        = "usage-bootstrap-authentication"
	bootstrapExtraGroupsKey                      = "auth-extra-groups"
)

var (
	bootstrapTokenPattern = regexp.MustCompile(`^([a-z0-9]{6})\.([a-z0-9]{16})$`)
	bootstrapGroupPattern = regexp.MustCompile(`^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$`)
)

// Bootstrap authenticates Kubernetes bootstrap tokens "<id>.<secret>"
// against the Secret kube-system/bootstrap-token-<id>: it must be of type
// bootstrap.kubernetes.io/token, not being deleted, hold the same token-id
// and token-secret (compared in constant time), allow authentication
// (usage-bootstrap-authentication "true") and not be past its RFC 3339
// expiration (an unparseable one counts as expired). The user is
// system:bootstrap:<id> in system:bootstrappers plus the valid groups of
// auth-extra-groups. As in Kubernetes, a token that fails any check is
// not ours (false, nil): BearerToken turns that into a 401; only a failure
// to read the Secret is an error. getSecret returns an apimachinery
// NotFound error for a missing Secret.
func Bootstrap(getSecret func(ctx context.Context, namespace, name string) (*corev1.Secret, error), now func() time.Time) Token {
	if now == nil {
		now = time.Now
	}
	return TokenFunc(func(ctx context.Context, token string) (*user.Info, bool, error) {
		m := bootstrapTokenPattern.FindStringSubmatch(token)
		if m == nil {
			return nil, false, nil
		}
		id, secretValue := m[1], m[2]
		secret, err := getSecret(ctx, metav1.NamespaceSystem, BootstrapTokenSecretPrefix+id)
		if apierrors.IsNotFound(err) {
			slog.Debug("bootstrap token secret not found", "tokenID", id)
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading bootstrap token %s: %w", id, err)
		}
		u, reason := bootstrapUser(secret, id, secretValue, now())
		if u == nil {
			slog.Debug("bootstrap token rejected", "tokenID", id, "reason", reason)
			return nil, false, nil
		}
		return u, true, nil
	})
}

// bootstrapUser decides whether secret accepts the token id.secretValue at
// now, and returns the user or why not.
func bootstrapUser(secret *corev1.Secret, id, secretValue string, now time.Time) (*user.Info, string) {
	if secret.DeletionTimestamp != nil {
		return nil, "secret is being deleted"
	}
	if secret.Type != BootstrapTokenSecretType {
		return nil, fmt.Sprintf("secret has type %q", secret.Type)
	}
	if subtle.ConstantTimeCompare(secret.Data[bootstrapTokenSecretKey], []byte(secretValue)) != 1 {
		return nil, "token secret does not match"
	}
	if string(secret.Data[bootstrapTokenIDKey]) != id {
		return nil, "token id does not match"
	}
	if exp := string(secret.Data[bootstrapExpirationKey]); exp != "" {
		t, err := time.Parse(time.RFC3339, exp)
		if err != nil || !now.Before(t) {
			return nil, "token has expired"
		}
	}
	if string(secret.Data[bootstrapUsageAuthKey]) != "true" {
		return nil, "token may not be used for authentication"
	}
	groups, err := bootstrapGroups(string(secret.Data[bootstrapExtraGroupsKey]))
	if err != nil {
		return nil, err.Error()
	}
	return &user.Info{Name: user.BootstrapUserPrefix + id, Groups: groups}, ""
}

// bootstrapGroups is system:bootstrappers plus the comma-separated extra
// groups, deduplicated and sorted; any extra group outside
// system:bootstrappers:* invalidates the token.
func bootstrapGroups(extra string) ([]string, error) {
	set := map[string]bool{user.BootstrapGroup: true}
	if extra != "" {
		for _, g := range strings.Split(extra, ",") {
			if !bootstrapGroupPattern.MatchString(g) {
				return nil, fmt.Errorf("group %q is not a valid bootstrap group (must match %s)", g, bootstrapGroupPattern)
			}
			set[g] = true
		}
	}
	groups := make([]string, 0, len(set))
	for g := range set {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	return groups, nil
}
