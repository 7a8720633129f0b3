package encryption

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// encryptedPrefix starts every encrypted value, as in Kubernetes.
const encryptedPrefix = "k8s:enc:"

// prefixVersion is the format version following the provider name.
const prefixVersion = "v1"

// valuePrefix is the prefix of a value encrypted by provider under keyName.
func valuePrefix(provider, keyName string) string {
	return encryptedPrefix + provider + ":" + prefixVersion + ":" + keyName + ":"
}

// parsePrefix splits an encrypted value into its provider, key name and
// ciphertext; ok is false when the value is not encrypted.
func parsePrefix(stored []byte) (provider, keyName string, body []byte, ok bool, err error) {
	rest, found := bytes.CutPrefix(stored, []byte(encryptedPrefix))
	if !found {
		return "", "", nil, false, nil
	}
	parts := bytes.SplitN(rest, []byte(":"), 4)
	if len(parts) != 4 || string(parts[1]) != prefixVersion || len(parts[2]) == 0 {
		return "", "", nil, true, errors.New("malformed encrypted value prefix")
	}
	return string(parts[0]), string(parts[2]), parts[3], true, nil
}

// isEncrypted reports whether a stored value carries an encryption prefix.
func isEncrypted(stored []byte) bool {
	return bytes.HasPrefix(stored, []byte(encryptedPrefix))
}

// newGCM returns AES-GCM with the standard 12-byte random nonce.
func newGCM(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealGCM encrypts plain, binding it to aad (the etcd key): the result is
// nonce || ciphertext || tag.
func sealGCM(aead cipher.AEAD, plain, aad []byte) ([]byte, error) {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("generating nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, aad), nil
}

// openGCM decrypts a value sealed by sealGCM for the same aad.
func openGCM(aead cipher.AEAD, data, aad []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(data) < n+aead.Overhead() {
		return nil, errors.New("aesgcm: ciphertext too short")
	}
	plain, err := aead.Open(nil, data[:n], data[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("aesgcm: %w", err)
	}
	return plain, nil
}

// sealCBC encrypts plain in Kubernetes' aescbc format: a random IV followed
// by the PKCS#7-padded CBC ciphertext. CBC authenticates nothing, which is
// why Kubernetes (and Skiff) prefer aesgcm.
func sealCBC(block cipher.Block, plain []byte) ([]byte, error) {
	bs := block.BlockSize()
	pad := bs - len(plain)%bs
	out := make([]byte, bs+len(plain)+pad)
	iv := out[:bs]
	if _, err := rand.Read(iv); err != nil {
		return nil, fmt.Errorf("generating IV: %w", err)
	}
	body := out[bs:]
	copy(body, plain)
	for i := len(plain); i < len(body); i++ {
		body[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)
	return out, nil
}

// openCBC decrypts a value in the aescbc format and strips its padding.
func openCBC(block cipher.Block, data []byte) ([]byte, error) {
	bs := block.BlockSize()
	if len(data) < 2*bs || len(data)%bs != 0 {
		return nil, errors.New("aescbc: ciphertext is not a whole number of blocks after the IV")
	}
	body := make([]byte, len(data)-bs)
	cipher.NewCBCDecrypter(block, data[:bs]).CryptBlocks(body, data[bs:])
	pad := int(body[len(body)-1])
	if pad == 0 || pad > bs || pad > len(body) {
		return nil, errors.New("aescbc: invalid padding")
	}
	for _, b := range body[len(body)-pad:] {
		if int(b) != pad {
			return nil, errors.New("aescbc: invalid padding")
		}
	}
	return body[:len(body)-pad], nil
}

// keyNameFor is the name of a key generated at a Unix time, as k3s and the
// Kubernetes docs name them.
func keyNameFor(provider string, unix int64, taken func(string) bool) string {
	name := fmt.Sprintf("%s-%d", provider, unix)
	for i := 1; taken(name); i++ {
		name = fmt.Sprintf("%s-%d-%d", provider, unix, i)
	}
	return name
}

// newSecret returns n random bytes.
func newSecret(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	return b, nil
}

// trimmed lowercases and trims a resource name from the file.
func trimmed(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// encodeSecret renders key material as it appears in the file.
func encodeSecret(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
