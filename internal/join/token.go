// Package join lets node agents on other machines join a Skiff cluster
// with a token: the server keeps a token in <data-dir>/token that names
// the cluster CA (by hash) and carries a Kubernetes bootstrap token; an
// agent holding it fetches the CA, checks it against the hash (so no one
// in the middle can pose as the server), then authenticates with the
// bootstrap token to ask for its node certificates through the
// certificates.k8s.io CSR API.
package join

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// tokenPrefix marks Skiff join tokens and their format version.
const tokenPrefix = "skiff1"

// tokenFormatHelp is the shape users are told about when a token is wrong.
const tokenFormatHelp = `join token must look like "skiff1.<64 hex digits>.<6 characters>.<16 characters>" (see <data-dir>/token on the server)`

// Bootstrap token shape, as Kubernetes defines it: "<id>.<secret>" with a
// 6-character ID and a 16-character secret, both [a-z0-9].
var (
	tokenIDPattern     = regexp.MustCompile(`^[a-z0-9]{6}$`)
	tokenSecretPattern = regexp.MustCompile(`^[a-z0-9]{16}$`)
)

const bootstrapAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// Token is a parsed join token: "skiff1.<CA sha256 hex>.<id>.<secret>",
// where "<id>.<secret>" is a Kubernetes bootstrap token.
type Token struct {
	// CAHash is the hex SHA-256 of the cluster CA certificate (PEM).
	CAHash string
	// ID and Secret are the bootstrap token's public ID and its secret.
	ID     string
	Secret string
}

// String returns the token in the form ParseToken reads.
func (t Token) String() string { return tokenPrefix + "." + t.CAHash + "." + t.BootstrapToken() }

// BootstrapToken returns "<id>.<secret>", the bearer token the API server
// authenticates as system:bootstrap:<id>.
func (t Token) BootstrapToken() string { return t.ID + "." + t.Secret }

// ParseToken checks a token's shape. Tokens of the first Skiff format
// (a long random secret instead of a bootstrap token) are refused with an
// error that says where to find the new one.
func ParseToken(s string) (Token, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) == 3 && parts[0] == tokenPrefix && len(parts[1]) == 64 {
		return Token{}, errors.New("join token is in the old format, which servers no longer accept: copy the current token from <data-dir>/token on the server (it now ends in a bootstrap token <6 characters>.<16 characters>)")
	}
	if len(parts) != 4 || parts[0] != tokenPrefix || len(parts[1]) != 64 {
		return Token{}, errors.New(tokenFormatHelp)
	}
	if _, err := hex.DecodeString(parts[1]); err != nil {
		return Token{}, fmt.Errorf("join token: CA hash: %w", err)
	}
	if !tokenIDPattern.MatchString(parts[2]) || !tokenSecretPattern.MatchString(parts[3]) {
		return Token{}, errors.New(tokenFormatHelp + ": the bootstrap token part must be [a-z0-9]{6}.[a-z0-9]{16}")
	}
	return Token{CAHash: parts[1], ID: parts[2], Secret: parts[3]}, nil
}

// CAHash is the hash of a CA certificate (PEM) that tokens carry.
func CAHash(caPEM []byte) string {
	sum := sha256.Sum256(caPEM)
	return hex.EncodeToString(sum[:])
}

// LoadOrCreateToken returns the server's token, creating <dataDir>/token
// on first use. A token whose CA hash no longer matches, or one in the old
// format, is replaced with a new bootstrap-form token, and the change is
// logged: agents must be given the new token.
func LoadOrCreateToken(dataDir string, caPEM []byte, log *slog.Logger) (Token, error) {
	path := filepath.Join(dataDir, "token")
	data, readErr := os.ReadFile(path)
	if readErr == nil {
		t, err := ParseToken(string(data))
		if err == nil && t.CAHash == CAHash(caPEM) {
			return t, nil
		}
	}
	id, err := randomString(6)
	if err != nil {
		return Token{}, fmt.Errorf("join token: %w", err)
	}
	secret, err := randomString(16)
	if err != nil {
		return Token{}, fmt.Errorf("join token: %w", err)
	}
	t := Token{CAHash: CAHash(caPEM), ID: id, Secret: secret}
	if err := os.WriteFile(path, []byte(t.String()+"\n"), 0o600); err != nil {
		return Token{}, fmt.Errorf("join token: %w", err)
	}
	if readErr == nil {
		log.Warn("the join token changed: agents joining from now on need the new token", "file", path)
	}
	return t, nil
}

// randomString returns n characters drawn uniformly from [a-z0-9].
func randomString(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, 1)
	// 252 = 7*36: rejecting bytes at or above it keeps the draw uniform.
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		if buf[0] < 252 {
			out = append(out, bootstrapAlphabet[int(buf[0])%len(bootstrapAlphabet)])
		}
	}
	return string(out), nil
}
