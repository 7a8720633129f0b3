package authn

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestBootstrap(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	valid := func(mod func(s *corev1.Secret)) *corev1.Secret {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-abcdef", Namespace: "kube-system"},
			Type:       "bootstrap.kubernetes.io/token",
			Data: map[string][]byte{
				"token-id": []byte("abcdef"), "token-secret": []byte("0123456789abcdef"),
				"usage-bootstrap-authentication": []byte("true"),
			},
		}
		if mod != nil {
			mod(s)
		}
		return s
	}
	const token = "abcdef.0123456789abcdef"
	tests := []struct {
		name       string
		token      string
		secret     *corev1.Secret
		getErr     error
		wantGroups []string // nil: not authenticated
		wantErr    bool
	}{
		{name: "valid", token: token, secret: valid(nil), wantGroups: []string{"system:bootstrappers"}},
		{name: "extra groups", token: token, secret: valid(func(s *corev1.Secret) {
			s.Data["auth-extra-groups"] = []byte("system:bootstrappers:worker,system:bootstrappers:a:b")
		}), wantGroups: []string{"system:bootstrappers", "system:bootstrappers:a:b", "system:bootstrappers:worker"}},
		{name: "invalid extra group", token: token, secret: valid(func(s *corev1.Secret) {
			s.Data["auth-extra-groups"] = []byte("system:bootstrappers:worker,system:masters")
		})},
		{name: "not expired", token: token, secret: valid(func(s *corev1.Secret) {
			s.Data["expiration"] = []byte(now.Add(time.Minute).Format(time.RFC3339))
		}), wantGroups: []string{"system:bootstrappers"}},
		{name: "expired", token: token, secret: valid(func(s *corev1.Secret) {
			s.Data["expiration"] = []byte(now.Add(-time.Minute).Format(time.RFC3339))
		})},
		{name: "unparseable expiration", token: token, secret: valid(func(s *corev1.Secret) { s.Data["expiration"] = []byte("tomorrow") })},
		{name: "wrong secret", token: "abcdef.0123456789abcdee", secret: valid(nil)},
		{name: "wrong id in data", token: token, secret: valid(func(s *corev1.Secret) { s.Data["token-id"] = []byte("zzzzzz") })},
		{name: "wrong type", token: token, secret: valid(func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque })},
		{name: "usage not allowed", token: token, secret: valid(func(s *corev1.Secret) { delete(s.Data, "usage-bootstrap-authentication") })},
		{name: "being deleted", token: token, secret: valid(func(s *corev1.Secret) { s.DeletionTimestamp = &metav1.Time{Time: now} })},
		{name: "not a bootstrap token", token: "eyJhbGciOi.xyz", secret: valid(nil)},
		{name: "upper case", token: "ABCDEF.0123456789abcdef", secret: valid(nil)},
		{name: "secret missing", token: token, getErr: apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, "bootstrap-token-abcdef")},
		{name: "read failure", token: token, getErr: errors.New("etcd down"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked string
			get := func(_ context.Context, ns, name string) (*corev1.Secret, error) {
				asked = ns + "/" + name
				return tt.secret, tt.getErr
			}
			u, ok, err := Bootstrap(get, func() time.Time { return now }).AuthenticateToken(context.Background(), tt.token)
			if (err != nil) != tt.wantErr || ok != (tt.wantGroups != nil) {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
			if asked != "" && asked != "kube-system/bootstrap-token-abcdef" {
				t.Fatalf("looked up %s", asked)
			}
			if !ok {
				return
			}
			if u.Name != "system:bootstrap:abcdef" || !reflect.DeepEqual(u.Groups, tt.wantGroups) {
				t.Fatalf("user %+v, want groups %v", u, tt.wantGroups)
			}
		})
	}
}
