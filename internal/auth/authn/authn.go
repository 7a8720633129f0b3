// Package authn decides who sent an API request: from a verified client
// certificate, a bearer token (service-account, bootstrap) or nobody, with
// Kubernetes' semantics, and the HTTP filter that puts the user into the
// request context.
package authn

import (
	"context"
	"net/http"

	"github.com/skiff-io/skiff/internal/auth/user"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// Request authenticates an HTTP request. It returns (user, true, nil) when
// the request's credentials identify a user; (nil, false, nil) when the
// request carries no credentials this authenticator understands; and an
// error when credentials were presented but are invalid (the request is
// then refused with 401).
type Request interface {
	AuthenticateRequest(r *http.Request) (*user.Info, bool, error)
}

// Token authenticates a bearer token, with the results of Request: a
// token this authenticator does not recognise as its own is
// (nil, false, nil) so that another one may try it.
type Token interface {
	AuthenticateToken(ctx context.Context, token string) (*user.Info, bool, error)
}

// RequestFunc adapts a function to Request.
type RequestFunc func(r *http.Request) (*user.Info, bool, error)

// AuthenticateRequest calls f.
func (f RequestFunc) AuthenticateRequest(r *http.Request) (*user.Info, bool, error) { return f(r) }

// TokenFunc adapts a function to Token.
type TokenFunc func(ctx context.Context, token string) (*user.Info, bool, error)

// AuthenticateToken calls f.
func (f TokenFunc) AuthenticateToken(ctx context.Context, token string) (*user.Info, bool, error) {
	return f(ctx, token)
}

// UnionRequest tries each authenticator in order: the first that succeeds
// wins. When none succeeds, the errors of those that failed are returned
// aggregated (nil when all of them simply did not apply).
func UnionRequest(auths ...Request) Request {
	return RequestFunc(func(r *http.Request) (*user.Info, bool, error) {
		var errs []error
		for _, a := range auths {
			u, ok, err := a.AuthenticateRequest(r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ok {
				return u, true, nil
			}
		}
		return nil, false, utilerrors.NewAggregate(errs)
	})
}

// UnionToken is UnionRequest for token authenticators.
func UnionToken(auths ...Token) Token {
	return TokenFunc(func(ctx context.Context, token string) (*user.Info, bool, error) {
		var errs []error
		for _, a := range auths {
			u, ok, err := a.AuthenticateToken(ctx, token)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ok {
				return u, true, nil
			}
		}
		return nil, false, utilerrors.NewAggregate(errs)
	})
}
