package authn

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/skiff-io/skiff/internal/auth/user"
)

// WebSocketBearerProtocolPrefix starts the WebSocket sub-protocol that
// carries a bearer token for clients (browsers) that cannot set headers:
// the rest of the protocol is the token, base64url-encoded without padding.
const WebSocketBearerProtocolPrefix = "base64url.bearer.authorization.k8s.io."

const webSocketProtocolHeader = "Sec-WebSocket-Protocol"

// errInvalidBearerToken is returned when a token was sent but no token
// authenticator recognised it: presented credentials that prove nothing
// must fail rather than fall back to anonymous.
var errInvalidBearerToken = errors.New("invalid bearer token")

// BearerToken authenticates the token of an "Authorization: Bearer <token>"
// header or, on a WebSocket upgrade, of the WebSocketBearerProtocolPrefix
// sub-protocol. A token that t does not accept is an error. After a
// successful authentication the credential is removed from the request
// (the Authorization header; the token protocol from
// Sec-WebSocket-Protocol) so that nothing downstream is tempted to reuse
// or forward it.
func BearerToken(t Token) Request {
	return RequestFunc(func(r *http.Request) (*user.Info, bool, error) {
		if token, ok := authorizationBearer(r.Header.Get("Authorization")); ok {
			u, ok, err := authenticateToken(r, t, token)
			if ok {
				r.Header.Del("Authorization")
			}
			return u, ok, err
		}
		if !isWebSocketUpgrade(r) {
			return nil, false, nil
		}
		token, rest, err := webSocketBearer(r.Header.Values(webSocketProtocolHeader))
		if err != nil || token == "" {
			return nil, false, err
		}
		u, ok, err := authenticateToken(r, t, token)
		if ok {
			r.Header.Set(webSocketProtocolHeader, strings.Join(rest, ","))
		}
		return u, ok, err
	})
}

func authenticateToken(r *http.Request, t Token, token string) (*user.Info, bool, error) {
	u, ok, err := t.AuthenticateToken(r.Context(), token)
	if !ok && err == nil {
		err = errInvalidBearerToken
	}
	if !ok {
		return nil, false, err
	}
	return u, true, nil
}

// authorizationBearer extracts the token of an Authorization header value
// of the Bearer scheme (case-insensitive); an empty token is no token.
func authorizationBearer(header string) (string, bool) {
	parts := strings.SplitN(strings.TrimSpace(header), " ", 3)
	if len(parts) < 2 || !strings.EqualFold(parts[0], "bearer") || parts[1] == "" {
		return "", false
	}
	return parts[1], true
}

// isWebSocketUpgrade reports whether r asks to upgrade to WebSocket.
func isWebSocketUpgrade(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range r.Header.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// webSocketBearer finds the bearer-token sub-protocol among the offered
// ones and returns the decoded token and the other protocols. The header
// may be repeated, each a comma-separated list. A second token, bad
// encoding, or a token without any other protocol to echo back to the
// client are errors.
func webSocketBearer(headers []string) (token string, rest []string, err error) {
	seen := false
	for _, h := range headers {
		for _, p := range strings.Split(h, ",") {
			p = strings.TrimSpace(p)
			encoded, isToken := strings.CutPrefix(p, WebSocketBearerProtocolPrefix)
			if !isToken {
				if p != "" {
					rest = append(rest, p)
				}
				continue
			}
			if seen {
				return "", nil, errors.New("multiple base64.bearer.authorization tokens specified")
			}
			seen = true
			raw, err := base64.RawURLEncoding.DecodeString(encoded)
			if err != nil {
				return "", nil, errors.New("invalid base64.bearer.authorization token encoding")
			}
			if !utf8.Valid(raw) {
				return "", nil, errors.New("invalid base64.bearer.authorization token")
			}
			token = string(raw)
		}
	}
	if token != "" && len(rest) == 0 {
		return "", nil, errors.New("missing additional subprotocol")
	}
	return token, rest, nil
}
