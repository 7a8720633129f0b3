// Package join lets node agents on other machines join a Skiff cluster
// with a token: the server keeps a token in <data-dir>/token that names
// the cluster CA (by hash) and a secret; an agent holding it fetches the
// CA, checks it against the hash (so no one in the middle can pose as the
// server), then presents the secret and receives its own client and
// serving certificates.
package join

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tokenPrefix marks Skiff join tokens and their format version.
const tokenPrefix = "skiff1"

// Token is a parsed join token: "skiff1.<CA sha256 hex>.<secret>".
type Token struct {
	CAHash string
	Secret string
}

func (t Token) String() string { return tokenPrefix + "." + t.CAHash + "." + t.Secret }

// ParseToken checks a token's shape.
func ParseToken(s string) (Token, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 3 || parts[0] != tokenPrefix || len(parts[1]) != 64 || len(parts[2]) < 32 {
		return Token{}, errors.New(`join token must look like "skiff1.<64 hex digits>.<secret>" (see <data-dir>/token on the server)`)
	}
	if _, err := hex.DecodeString(parts[1]); err != nil {
		return Token{}, fmt.Errorf("join token: CA hash: %w", err)
	}
	return Token{CAHash: parts[1], Secret: parts[2]}, nil
}

// CAHash is the hash of a CA certificate (PEM) that tokens carry.
func CAHash(caPEM []byte) string {
	sum := sha256.Sum256(caPEM)
	return hex.EncodeToString(sum[:])
}

// EnsureToken returns the server's token, creating <dataDir>/token on
// first use. A token whose CA hash no longer matches is replaced.
func EnsureToken(dataDir string, caPEM []byte) (Token, error) {
	path := filepath.Join(dataDir, "token")
	if data, err := os.ReadFile(path); err == nil {
		if t, err := ParseToken(string(data)); err == nil && t.CAHash == CAHash(caPEM) {
			return t, nil
		}
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return Token{}, err
	}
	t := Token{CAHash: CAHash(caPEM), Secret: hex.EncodeToString(secret)}
	if err := os.WriteFile(path, []byte(t.String()+"\n"), 0o600); err != nil {
		return Token{}, fmt.Errorf("join token: %w", err)
	}
	return t, nil
}
