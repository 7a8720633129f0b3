package authn

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/auth/user"
)

// CacheConfig configures CachedToken.
type CacheConfig struct {
	// TTL is how long a successful authentication is reused. Kubernetes
	// caches token logins for 10 s; a revoked token (its pod or service
	// account deleted) keeps working for at most this long.
	TTL time.Duration
	// MaxEntries bounds the cache; when full, expired entries are dropped
	// and, if none are, the cache is emptied. Default 4096.
	MaxEntries int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// CachedToken remembers the successful results of t for cfg.TTL, keyed by
// a SHA-256 of the token so that the cache holds no credentials. Failures
// and tokens t does not recognise are never cached: a wrong token costs a
// full check every time, as in Kubernetes.
func CachedToken(t Token, cfg CacheConfig) Token {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &tokenCache{next: t, cfg: cfg, entries: map[[sha256.Size]byte]cachedUser{}}
	return TokenFunc(c.authenticate)
}

type cachedUser struct {
	u       *user.Info
	expires time.Time
}

type tokenCache struct {
	next Token
	cfg  CacheConfig

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedUser
}

func (c *tokenCache) authenticate(ctx context.Context, token string) (*user.Info, bool, error) {
	key := sha256.Sum256([]byte(token))
	now := c.cfg.Now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.u, true, nil
	}
	u, ok, err := c.next.AuthenticateToken(ctx, token)
	if err != nil || !ok {
		return u, ok, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.cfg.MaxEntries {
		c.evict(now)
	}
	c.entries[key] = cachedUser{u: u, expires: now.Add(c.cfg.TTL)}
	return u, true, nil
}

// evict drops expired entries, or everything when none has expired (a
// flood of distinct valid tokens is rare; a cold cache only costs time).
func (c *tokenCache) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) >= c.cfg.MaxEntries {
		clear(c.entries)
	}
}
