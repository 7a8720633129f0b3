package serviceaccount

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/auth/user"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// world is a fresh cluster state for one authentication case.
func world() *objects {
	o := newObjects()
	o.accounts["ns/builder"] = &corev1.ServiceAccount{ObjectMeta: meta("ns", "builder", "sa-uid")}
	o.pods["ns/p"] = &corev1.Pod{ObjectMeta: meta("ns", "p", "pod-uid"), Spec: corev1.PodSpec{ServiceAccountName: "builder", NodeName: "n1"}}
	o.secrets["ns/s"] = &corev1.Secret{ObjectMeta: meta("ns", "s", "secret-uid")}
	o.nodes["n1"] = &corev1.Node{ObjectMeta: meta("", "n1", "node-uid")}
	o.secrets["ns/legacy"] = &corev1.Secret{ObjectMeta: meta("ns", "legacy", "legacy-uid"), Type: corev1.SecretTypeServiceAccountToken}
	return o
}

func TestAuthenticator(t *testing.T) {
	c := &clock{t: testNow}
	iss := newTestIssuer(t, c, "api", "vault")
	otherKey := newTestIssuer(t, c, "api") // same issuer URL, another key
	sa := &corev1.ServiceAccount{ObjectMeta: meta("ns", "builder", "sa-uid")}
	request := func(i *Issuer, audiences []string, ref *authenticationv1.BoundObjectReference, bound BoundObject) string {
		out, err := i.TokenRequest(sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences, BoundObjectRef: ref}}, bound)
		if err != nil {
			t.Fatal(err)
		}
		return out.Status.Token
	}
	plain := request(iss, nil, nil, BoundObject{})
	podBound := request(iss, nil, &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p"},
		BoundObject{Kind: KindPod, Name: "p", UID: "pod-uid", ServiceAccountName: "builder", NodeName: "n1", NodeUID: "node-uid"})
	secretBound := request(iss, nil, &authenticationv1.BoundObjectReference{Kind: "Secret", APIVersion: "v1", Name: "s"},
		BoundObject{Kind: KindSecret, Name: "s", UID: "secret-uid"})
	nodeBound := request(iss, nil, &authenticationv1.BoundObjectReference{Kind: "Node", APIVersion: "v1", Name: "n1"},
		BoundObject{Kind: KindNode, Name: "n1", UID: "node-uid"})
	vaultOnly := request(iss, []string{"vault"}, nil, BoundObject{})
	wrongAudience := request(iss, []string{"elsewhere"}, nil, BoundObject{})
	wrongKey := request(otherKey, nil, nil, BoundObject{})
	legacy, err := iss.Legacy(sa, world().secrets["ns/legacy"])
	if err != nil {
		t.Fatal(err)
	}
	foreignLegacy, err := otherKey.Legacy(sa, world().secrets["ns/legacy"])
	if err != nil {
		t.Fatal(err)
	}
	foreignIssuer, err := New(IssuerConfig{Key: otherKey.key, Issuer: "https://other.example.com", Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	foreign := request(foreignIssuer, nil, nil, BoundObject{})
	deletedAt := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: testNow.Add(d)} }

	tests := []struct {
		name      string
		token     string
		at        time.Duration // after testNow
		mutate    func(o *objects)
		wantNotUs bool // (nil, false, nil)
		wantErr   bool
		wantExtra map[string][]string
	}{
		{name: "plain", token: plain, wantExtra: map[string][]string{}},
		{name: "audience among several", token: vaultOnly, wantExtra: map[string][]string{}},
		{name: "pod bound", token: podBound, wantExtra: map[string][]string{
			user.ExtraPodName: {"p"}, user.ExtraPodUID: {"pod-uid"}, user.ExtraNodeName: {"n1"}, user.ExtraNodeUID: {"node-uid"}}},
		{name: "secret bound", token: secretBound, wantExtra: map[string][]string{}},
		{name: "node bound", token: nodeBound, wantExtra: map[string][]string{user.ExtraNodeName: {"n1"}, user.ExtraNodeUID: {"node-uid"}}},
		{name: "legacy", token: legacy, mutate: func(o *objects) { o.secrets["ns/legacy"].Data = map[string][]byte{"token": []byte(legacy)} }},
		{name: "within leeway after expiry", token: plain, at: time.Hour + 59*time.Second, wantExtra: map[string][]string{}},
		{name: "expired", token: plain, at: time.Hour + 61*time.Second, wantErr: true},
		{name: "not yet valid", token: plain, at: -2 * time.Minute, wantErr: true},
		{name: "wrong audience", token: wrongAudience, wantErr: true},
		{name: "wrong key", token: wrongKey, wantErr: true},
		{name: "tampered", token: plain[:len(plain)-4] + "AAAA", wantErr: true},
		{name: "service account deleted", token: plain, mutate: func(o *objects) { delete(o.accounts, "ns/builder") }, wantErr: true},
		{name: "service account recreated", token: plain, mutate: func(o *objects) {
			o.accounts["ns/builder"] = &corev1.ServiceAccount{ObjectMeta: meta("ns", "builder", "new-uid")}
		}, wantErr: true},
		{name: "bound pod deleted", token: podBound, mutate: func(o *objects) { delete(o.pods, "ns/p") }, wantErr: true},
		{name: "bound pod recreated", token: podBound, mutate: func(o *objects) { o.pods["ns/p"].UID = "new-uid" }, wantErr: true},
		{name: "bound pod terminating gracefully", token: podBound, mutate: func(o *objects) {
			o.pods["ns/p"].DeletionTimestamp = deletedAt(30 * time.Second)
		}, wantExtra: map[string][]string{user.ExtraPodName: {"p"}, user.ExtraPodUID: {"pod-uid"}, user.ExtraNodeName: {"n1"}, user.ExtraNodeUID: {"node-uid"}}},
		{name: "bound pod past deletion", token: podBound, mutate: func(o *objects) {
			o.pods["ns/p"].DeletionTimestamp = deletedAt(-2 * time.Minute)
		}, wantErr: true},
		{name: "pod-bound token survives node loss", token: podBound, mutate: func(o *objects) { delete(o.nodes, "n1") },
			wantExtra: map[string][]string{user.ExtraPodName: {"p"}, user.ExtraPodUID: {"pod-uid"}, user.ExtraNodeName: {"n1"}, user.ExtraNodeUID: {"node-uid"}}},
		{name: "bound secret deleted", token: secretBound, mutate: func(o *objects) { delete(o.secrets, "ns/s") }, wantErr: true},
		{name: "bound node deleted", token: nodeBound, mutate: func(o *objects) { delete(o.nodes, "n1") }, wantErr: true},
		{name: "legacy without its secret", token: legacy, mutate: func(o *objects) { delete(o.secrets, "ns/legacy") }, wantErr: true},
		{name: "legacy secret holds another token", token: legacy, mutate: func(o *objects) {
			o.secrets["ns/legacy"].Data = map[string][]byte{"token": []byte("something else")}
		}, wantErr: true},
		{name: "legacy secret of another type", token: legacy, mutate: func(o *objects) {
			o.secrets["ns/legacy"].Data = map[string][]byte{"token": []byte(legacy)}
			o.secrets["ns/legacy"].Type = corev1.SecretTypeOpaque
		}, wantErr: true},
		{name: "legacy marked invalid", token: legacy, mutate: func(o *objects) {
			o.secrets["ns/legacy"].Data = map[string][]byte{"token": []byte(legacy)}
			o.secrets["ns/legacy"].Labels = map[string]string{LegacyTokenInvalidSinceLabel: "2026-01-01"}
		}, wantErr: true},
		{name: "legacy with recreated service account", token: legacy, mutate: func(o *objects) {
			o.secrets["ns/legacy"].Data = map[string][]byte{"token": []byte(legacy)}
			o.accounts["ns/builder"].UID = "new-uid"
		}, wantErr: true},
		{name: "legacy signed by another key", token: foreignLegacy, mutate: func(o *objects) {
			o.secrets["ns/legacy"].Data = map[string][]byte{"token": []byte(foreignLegacy)}
		}, wantErr: true},
		{name: "another issuer", token: foreign, wantNotUs: true},
		{name: "not a JWT", token: "abcdef.0123456789abcdef", wantNotUs: true},
		{name: "opaque token", token: "s3cr3t", wantNotUs: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := world()
			if tt.mutate != nil {
				tt.mutate(o)
			}
			c.t = testNow.Add(tt.at)
			u, ok, err := Authenticator(iss, o.getters()).AuthenticateToken(context.Background(), tt.token)
			switch {
			case tt.wantNotUs:
				if ok || err != nil {
					t.Fatalf("ok=%v err=%v, want (nil, false, nil)", ok, err)
				}
				return
			case tt.wantErr:
				if ok || err == nil {
					t.Fatalf("ok=%v err=%v, want an error", ok, err)
				}
				return
			case !ok || err != nil:
				t.Fatalf("ok=%v err=%v", ok, err)
			}
			if u.Name != "system:serviceaccount:ns:builder" || u.UID != "sa-uid" ||
				!reflect.DeepEqual(u.Groups, []string{"system:serviceaccounts", "system:serviceaccounts:ns"}) {
				t.Fatalf("user %+v", u)
			}
			if tt.wantExtra == nil {
				if len(u.Extra) != 0 {
					t.Fatalf("extra %v, want none", u.Extra)
				}
				return
			}
			jti := u.Extra[user.ExtraCredentialID]
			if len(jti) != 1 || len(jti[0]) != len("JTI=")+36 {
				t.Fatalf("credential id %v", jti)
			}
			extra := map[string][]string{}
			for k, v := range u.Extra {
				if k != user.ExtraCredentialID {
					extra[k] = v
				}
			}
			if !reflect.DeepEqual(extra, tt.wantExtra) {
				t.Fatalf("extra %v, want %v", extra, tt.wantExtra)
			}
		})
	}
}
