package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// ServiceAccount token refresh policy, as the kubelet's token manager
// applies it: a projected token is replaced once 80% of its life has
// passed or it is 24 hours old, whichever comes first.
const (
	defaultTokenExpirationSeconds = 3600
	tokenRefreshFraction          = 0.8
	tokenMaxAge                   = 24 * time.Hour
	// tokenUnusedTTL drops tokens of pods that stopped asking (deleted
	// pods whose Forget was missed).
	tokenUnusedTTL = 10 * time.Minute
)

// saTokenKey identifies one projected token: the volume manager asks for
// it every few seconds with the same parameters.
type saTokenKey struct {
	podUID            types.UID
	serviceAccount    string
	audience          string
	expirationSeconds int64
}

// saToken is a cached token and when it was issued and expires.
type saToken struct {
	token           string
	issued, expires time.Time
	lastUsed        time.Time
}

// stale reports whether t must be replaced at now.
func (t saToken) stale(now time.Time) bool {
	refreshAt := t.issued.Add(time.Duration(tokenRefreshFraction * float64(t.expires.Sub(t.issued))))
	return !now.Before(refreshAt) || !now.Before(t.issued.Add(tokenMaxAge))
}

// saTokenCache issues pods' projected ServiceAccount tokens through the
// TokenRequest API and caches them until they are due for refresh. The
// zero value is ready to use; it is safe for concurrent use.
type saTokenCache struct {
	// now is the clock; nil means time.Now.
	now func() time.Time

	mu      sync.Mutex
	entries map[saTokenKey]*saToken
}

func (c *saTokenCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// tokenRequestFor is the TokenRequest the kubelet makes for a projected
// token: the source's audience (none: the API server's default audiences)
// and expiration (default one hour), bound to the pod so that the token
// dies with it.
func tokenRequestFor(pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) *authenticationv1.TokenRequest {
	exp := int64(defaultTokenExpirationSeconds)
	if src.ExpirationSeconds != nil {
		exp = *src.ExpirationSeconds
	}
	var audiences []string
	if src.Audience != "" {
		audiences = []string{src.Audience}
	}
	return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences:         audiences,
		ExpirationSeconds: &exp,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
}

// serviceAccountName is the pod's ServiceAccount, "default" when unset.
func serviceAccountName(pod *corev1.Pod) string {
	if pod.Spec.ServiceAccountName != "" {
		return pod.Spec.ServiceAccountName
	}
	return "default"
}

// get returns a valid token for the pod's projection src, from the cache
// when the cached one is not yet due for refresh.
func (c *saTokenCache) get(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error) {
	req := tokenRequestFor(pod, src)
	sa := serviceAccountName(pod)
	key := saTokenKey{podUID: pod.UID, serviceAccount: sa, audience: src.Audience, expirationSeconds: *req.Spec.ExpirationSeconds}
	now := c.clock()
	c.mu.Lock()
	c.sweep(now)
	if t, ok := c.entries[key]; ok && !t.stale(now) {
		t.lastUsed = now
		token := t.token
		c.mu.Unlock()
		return token, nil
	}
	c.mu.Unlock()

	// The API call runs unlocked: other pods' tokens must not wait on it.
	resp, err := client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("requesting a token for service account %s/%s: %w", pod.Namespace, sa, err)
	}
	expires := resp.Status.ExpirationTimestamp.Time
	if expires.IsZero() {
		expires = now.Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[saTokenKey]*saToken{}
	}
	c.entries[key] = &saToken{token: resp.Status.Token, issued: now, expires: expires, lastUsed: now}
	return resp.Status.Token, nil
}

// sweep drops tokens nobody asked for in tokenUnusedTTL. c.mu is held.
func (c *saTokenCache) sweep(now time.Time) {
	for k, t := range c.entries {
		if now.Sub(t.lastUsed) > tokenUnusedTTL {
			delete(c.entries, k)
		}
	}
}

// Forget drops every cached token of the pod with this UID; call it when
// the pod is gone from the node.
func (c *saTokenCache) Forget(podUID types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if k.podUID == podUID {
			delete(c.entries, k)
		}
	}
}
