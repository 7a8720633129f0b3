package authn

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/skiff-io/skiff/internal/auth/user"
)

// staticToken accepts exactly one token.
func staticToken(token, name string) Token {
	return TokenFunc(func(_ context.Context, t string) (*user.Info, bool, error) {
		if t != token {
			return nil, false, nil
		}
		return &user.Info{Name: name}, true, nil
	})
}

func failingToken(msg string) Token {
	return TokenFunc(func(context.Context, string) (*user.Info, bool, error) {
		return nil, false, errors.New(msg)
	})
}

func TestUnionToken(t *testing.T) {
	tests := []struct {
		name     string
		auths    []Token
		token    string
		wantUser string
		wantErr  bool
	}{
		{"first wins", []Token{staticToken("a", "one"), staticToken("a", "two")}, "a", "one", false},
		{"second after a miss", []Token{staticToken("x", "one"), staticToken("a", "two")}, "a", "two", false},
		{"success after an error", []Token{failingToken("boom"), staticToken("a", "two")}, "a", "two", false},
		{"nobody applies", []Token{staticToken("x", "one")}, "a", "", false},
		{"errors aggregated", []Token{failingToken("boom"), failingToken("bang")}, "a", "", true},
		{"empty union", nil, "a", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok, err := UnionToken(tt.auths...).AuthenticateToken(context.Background(), tt.token)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if ok != (tt.wantUser != "") {
				t.Fatalf("ok = %v", ok)
			}
			if ok && u.Name != tt.wantUser {
				t.Fatalf("user %q, want %q", u.Name, tt.wantUser)
			}
		})
	}
}

func TestUnionRequestAggregatesErrors(t *testing.T) {
	fail := func(msg string) Request {
		return RequestFunc(func(*http.Request) (*user.Info, bool, error) { return nil, false, errors.New(msg) })
	}
	ok := RequestFunc(func(*http.Request) (*user.Info, bool, error) { return &user.Info{Name: "u"}, true, nil })
	r := httptest.NewRequest("GET", "/", nil)
	if _, got, err := UnionRequest(fail("a"), fail("b")).AuthenticateRequest(r); got || err == nil || err.Error() != "[a, b]" {
		t.Fatalf("got ok=%v err=%v, want aggregated [a, b]", got, err)
	}
	if u, got, err := UnionRequest(fail("a"), ok).AuthenticateRequest(r); !got || err != nil || u.Name != "u" {
		t.Fatalf("got %v %v %v", u, got, err)
	}
}
