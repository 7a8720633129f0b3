package serviceaccount

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// fakeIssuer makes tokens that show what they were issued for.
type fakeIssuer struct{}

func (fakeIssuer) Legacy(sa *corev1.ServiceAccount, secret *corev1.Secret) (string, error) {
	return "token:" + string(sa.UID) + ":" + secret.Name, nil
}

const testCA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"

func tokenSecret(name string, annotations map[string]string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(name + "-uid"), Annotations: annotations},
		Type: corev1.SecretTypeServiceAccountToken}
	if data != nil {
		s.Data = map[string][]byte{}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
	}
	return s
}

func TestDecideTokenSecret(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "builder", UID: "sa-uid"}}
	full := map[string]string{"token": "t", "namespace": "ns", "ca.crt": testCA}
	named := map[string]string{corev1.ServiceAccountNameKey: "builder"}
	withUID := map[string]string{corev1.ServiceAccountNameKey: "builder", corev1.ServiceAccountUIDKey: "sa-uid"}
	otherUID := map[string]string{corev1.ServiceAccountNameKey: "builder", corev1.ServiceAccountUIDKey: "old-uid"}
	deleting := tokenSecret("s", named, nil)
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
	tests := []struct {
		name   string
		sa     *corev1.ServiceAccount
		secret *corev1.Secret
		ca     string
		want   tokenSecretAction
	}{
		{"new secret", sa, tokenSecret("s", named, nil), testCA, tokenSecretFill},
		{"complete", sa, tokenSecret("s", withUID, full), testCA, tokenSecretKeep},
		{"uid annotation missing", sa, tokenSecret("s", named, full), testCA, tokenSecretFill},
		{"token missing", sa, tokenSecret("s", withUID, map[string]string{"namespace": "ns", "ca.crt": testCA}), testCA, tokenSecretFill},
		{"namespace missing", sa, tokenSecret("s", withUID, map[string]string{"token": "t", "ca.crt": testCA}), testCA, tokenSecretFill},
		{"ca changed", sa, tokenSecret("s", withUID, full), "other CA", tokenSecretFill},
		{"no ca configured", sa, tokenSecret("s", withUID, map[string]string{"token": "t", "namespace": "ns"}), "", tokenSecretKeep},
		{"account gone", nil, tokenSecret("s", withUID, full), testCA, tokenSecretDelete},
		{"account gone before filling", nil, tokenSecret("s", named, nil), testCA, tokenSecretDelete},
		{"account recreated", sa, tokenSecret("s", otherUID, full), testCA, tokenSecretDelete},
		{"secret being deleted", nil, deleting, testCA, tokenSecretKeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decideTokenSecret(tt.sa, tt.secret, []byte(tt.ca)); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilledTokenSecretKeepsExistingToken(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "builder", UID: "sa-uid"}}
	in := tokenSecret("s", map[string]string{corev1.ServiceAccountNameKey: "builder"}, map[string]string{"token": "kept"})
	out, err := filledTokenSecret(sa, in, []byte(testCA), fakeIssuer{})
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Data["token"]) != "kept" || string(out.Data["namespace"]) != "ns" || string(out.Data["ca.crt"]) != testCA ||
		out.Annotations[corev1.ServiceAccountUIDKey] != "sa-uid" {
		t.Fatalf("filled %+v", out)
	}
	if _, ok := in.Annotations[corev1.ServiceAccountUIDKey]; ok || in.Data["namespace"] != nil {
		t.Fatal("input secret was modified")
	}
}

func TestTokenSecretKey(t *testing.T) {
	named := tokenSecret("s", map[string]string{corev1.ServiceAccountNameKey: "builder"}, nil)
	opaque := named.DeepCopy()
	opaque.Type = corev1.SecretTypeOpaque
	if key, ok := tokenSecretKey(named); !ok || key != "ns/builder" {
		t.Fatalf("key %q %v", key, ok)
	}
	if _, ok := tokenSecretKey(opaque); ok {
		t.Fatal("opaque secret enqueued")
	}
	if _, ok := tokenSecretKey(tokenSecret("s", nil, nil)); ok {
		t.Fatal("secret without account enqueued")
	}
}

// startTokens returns a controller whose informers read from cache and
// whose writes go to api (the same clientset unless a stale cache is
// being simulated), with its informers synced.
func startTokens(t *testing.T, ctx context.Context, cache, api kubernetes.Interface) *TokensController {
	t.Helper()
	factory := informers.NewSharedInformerFactory(cache, 0)
	c, err := NewTokens(TokensConfig{Client: api, Informers: factory, Issuer: fakeIssuer{}, CAPEM: []byte(testCA)})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("informer %v did not sync", typ)
		}
	}
	return c
}

func TestTokensControllerFillsAndDeletes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "builder", UID: "sa-uid"}}
	secret := tokenSecret("builder-token", map[string]string{corev1.ServiceAccountNameKey: "builder"}, nil)
	other := tokenSecret("other-token", map[string]string{corev1.ServiceAccountNameKey: "default"}, map[string]string{"token": "x"})
	client := fake.NewClientset(sa, secret, other)
	c := startTokens(t, ctx, client, client)

	if err := c.Reconcile(ctx, "ns/builder"); err != nil {
		t.Fatal(err)
	}
	got, err := client.CoreV1().Secrets("ns").Get(ctx, "builder-token", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data["token"]) != "token:sa-uid:builder-token" || string(got.Data["ca.crt"]) != testCA ||
		string(got.Data["namespace"]) != "ns" || got.Annotations[corev1.ServiceAccountUIDKey] != "sa-uid" {
		t.Fatalf("secret not filled: %+v", got)
	}

	if err := client.CoreV1().ServiceAccounts("ns").Delete(ctx, "builder", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := c.accounts.ServiceAccounts("ns").Get("builder"); apierrors.IsNotFound(err) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("informer never saw the deletion")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := c.Reconcile(ctx, "ns/builder"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Secrets("ns").Get(ctx, "builder-token", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("token secret of the deleted account still there: %v", err)
	}
	if _, err := client.CoreV1().Secrets("ns").Get(ctx, "other-token", metav1.GetOptions{}); err != nil {
		t.Fatalf("another account's secret was touched: %v", err)
	}
}

// TestTokensControllerStaleCache checks that an account missing only from
// the cache does not get its Secret deleted: the live read finds it and
// the Secret is filled instead.
func TestTokensControllerStaleCache(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "builder", UID: "sa-uid"}}
	secret := tokenSecret("builder-token", map[string]string{corev1.ServiceAccountNameKey: "builder"}, nil)
	cached := fake.NewClientset(secret)
	api := fake.NewClientset(sa, secret)
	c := startTokens(t, ctx, cached, api)
	if err := c.Reconcile(ctx, "ns/builder"); err != nil {
		t.Fatal(err)
	}
	got, err := api.CoreV1().Secrets("ns").Get(ctx, "builder-token", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("secret deleted on a stale cache: %v", err)
	}
	if string(got.Data["token"]) != "token:sa-uid:builder-token" {
		t.Fatalf("secret not filled: %+v", got)
	}
}
