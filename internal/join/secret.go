package join

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Bootstrap token Secrets, as Kubernetes defines them: a Secret of type
// bootstrap.kubernetes.io/token named bootstrap-token-<id> in kube-system.
const (
	bootstrapNamespace    = metav1.NamespaceSystem
	bootstrapSecretPrefix = "bootstrap-token-"
	keyTokenID            = "token-id"
	keyTokenSecret        = "token-secret"
	keyDescription        = "description"
	keyUsageAuth          = "usage-bootstrap-authentication"
	keyUsageSigning       = "usage-bootstrap-signing"
)

// BootstrapSecretName is the name of the Secret backing the bootstrap
// token with this ID.
func BootstrapSecretName(id string) string { return bootstrapSecretPrefix + id }

// bootstrapSecretData is what the default join token's Secret holds: no
// expiration, since it lives as long as <data-dir>/token does.
func bootstrapSecretData(tok Token) map[string][]byte {
	return map[string][]byte{
		keyTokenID:      []byte(tok.ID),
		keyTokenSecret:  []byte(tok.Secret),
		keyDescription:  []byte("Skiff join token from <data-dir>/token on the server"),
		keyUsageAuth:    []byte("true"),
		keyUsageSigning: []byte("true"),
	}
}

// EnsureBootstrapSecret creates the Secret kube-system/bootstrap-token-<id>
// that makes tok's bootstrap token authenticate, or brings an existing one
// back to the expected type and data (so an edited or expired copy is
// repaired). Fields it does not own, such as auth-extra-groups, are kept.
// It makes one attempt; callers retry while the API server starts.
func EnsureBootstrapSecret(ctx context.Context, client kubernetes.Interface, tok Token) error {
	secrets := client.CoreV1().Secrets(bootstrapNamespace)
	name := BootstrapSecretName(tok.ID)
	want := bootstrapSecretData(tok)
	cur, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = secrets.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: bootstrapNamespace},
			Type:       corev1.SecretTypeBootstrapToken,
			Data:       want,
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("bootstrap token secret %s: created concurrently, try again: %w", name, err)
		}
	} else if err == nil && (cur.Type != corev1.SecretTypeBootstrapToken || !secretHas(cur, want)) {
		if cur.Type != corev1.SecretTypeBootstrapToken {
			// The type of a Secret is immutable: replace the object.
			if err = secrets.Delete(ctx, name, metav1.DeleteOptions{}); err == nil {
				return EnsureBootstrapSecret(ctx, client, tok)
			}
		} else {
			upd := cur.DeepCopy()
			if upd.Data == nil {
				upd.Data = map[string][]byte{}
			}
			maps.Copy(upd.Data, want)
			// An expiration would end the default token's life silently.
			delete(upd.Data, "expiration")
			_, err = secrets.Update(ctx, upd, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("bootstrap token secret %s/%s: %w", bootstrapNamespace, name, err)
	}
	return nil
}

// secretHas reports whether s already holds want and no expiration.
func secretHas(s *corev1.Secret, want map[string][]byte) bool {
	if _, ok := s.Data["expiration"]; ok {
		return false
	}
	for k, v := range want {
		if string(s.Data[k]) != string(v) {
			return false
		}
	}
	return true
}
