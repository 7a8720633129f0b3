package authn

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/auth/user"
)

// countingTokens knows "good"; "bad" is an invalid credential; it counts
// the checks it was asked to do.
type countingTokens struct{ calls int }

func (c *countingTokens) AuthenticateToken(_ context.Context, tok string) (*user.Info, bool, error) {
	c.calls++
	switch tok {
	case "good", "other":
		return &user.Info{Name: tok}, true, nil
	case "bad":
		return nil, false, errors.New("invalid")
	}
	return nil, false, nil
}

func TestCachedToken(t *testing.T) {
	now := time.Unix(1000, 0)
	next := &countingTokens{}
	cached := CachedToken(next, CacheConfig{TTL: 10 * time.Second, MaxEntries: 2, Now: func() time.Time { return now }})
	ctx := context.Background()
	check := func(tok string, wantOK bool, wantErr bool, wantCalls int) {
		t.Helper()
		u, ok, err := cached.AuthenticateToken(ctx, tok)
		if ok != wantOK || (err != nil) != wantErr || next.calls != wantCalls {
			t.Fatalf("%s: ok=%v err=%v calls=%d, want ok=%v err=%v calls=%d", tok, ok, err, next.calls, wantOK, wantErr, wantCalls)
		}
		if ok && u.Name != tok {
			t.Fatalf("%s: user %q", tok, u.Name)
		}
	}
	check("good", true, false, 1)
	check("good", true, false, 1) // cached
	check("bad", false, true, 2)
	check("bad", false, true, 3) // failures are not cached
	check("unknown", false, false, 4)
	check("unknown", false, false, 5)
	now = now.Add(11 * time.Second)
	check("good", true, false, 6) // expired: checked again
	check("other", true, false, 7)
	now = now.Add(time.Second)
	check("third", false, false, 8)
	check("good", true, false, 8)
	check("other", true, false, 8)
}

func TestCachedTokenBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	next := &countingTokens{}
	c := CachedToken(next, CacheConfig{TTL: time.Minute, MaxEntries: 1, Now: func() time.Time { return now }})
	ctx := context.Background()
	for _, tok := range []string{"good", "other", "good"} {
		if _, ok, err := c.AuthenticateToken(ctx, tok); !ok || err != nil {
			t.Fatalf("%s: %v %v", tok, ok, err)
		}
	}
	if next.calls != 3 {
		t.Fatalf("calls %d: a cache of one entry must have dropped good for other", next.calls)
	}
}
