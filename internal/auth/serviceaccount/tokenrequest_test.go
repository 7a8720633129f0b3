package serviceaccount

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func int64p(v int64) *int64 { return &v }

func TestTokenRequestValidation(t *testing.T) {
	c := &clock{t: testNow}
	iss := newTestIssuer(t, c, "api")
	sa := &corev1.ServiceAccount{ObjectMeta: meta("ns", "builder", "sa-uid")}
	podRef := &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p", UID: "pod-uid"}
	pod := BoundObject{Kind: KindPod, Name: "p", UID: "pod-uid", ServiceAccountName: "builder"}
	tests := []struct {
		name    string
		req     authenticationv1.TokenRequest
		bound   BoundObject
		check   func(error) bool
		wantMsg string
	}{
		{name: "too short", req: authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: int64p(599)}},
			check: apierrors.IsInvalid, wantMsg: "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes"},
		{name: "too long", req: authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: int64p(1<<32 + 1)}},
			check: apierrors.IsInvalid, wantMsg: "spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds"},
		{name: "other name", req: authenticationv1.TokenRequest{ObjectMeta: metav1.ObjectMeta{Name: "other"}},
			check: apierrors.IsInvalid, wantMsg: "metadata.name: Invalid value: \"other\": must match the service account name if specified"},
		{name: "other namespace", req: authenticationv1.TokenRequest{ObjectMeta: metav1.ObjectMeta{Namespace: "other"}},
			check: apierrors.IsInvalid, wantMsg: "metadata.namespace: Invalid value: \"other\": must match the service account namespace if specified"},
		{name: "unsupported kind", req: authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "ConfigMap", APIVersion: "v1", Name: "c"}}},
			check: apierrors.IsBadRequest, wantMsg: "cannot bind token to object of type /v1, Kind=ConfigMap"},
		{name: "pod of another group", req: authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "example.com/v1", Name: "p"}}},
			check: apierrors.IsBadRequest, wantMsg: "cannot bind token to object of type example.com/v1, Kind=Pod"},
		{name: "no name", req: authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Secret", APIVersion: "v1"}}},
			check: apierrors.IsInvalid, wantMsg: "spec.boundObjectRef.name: Required value"},
		{name: "uid mismatch", req: authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: podRef}},
			bound: BoundObject{Kind: KindPod, Name: "p", UID: "recreated", ServiceAccountName: "builder"},
			check: apierrors.IsConflict, wantMsg: "the UID in the bound object reference (pod-uid) does not match the UID in record"},
		{name: "pod of another service account", req: authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: podRef}},
			bound: BoundObject{Kind: KindPod, Name: "p", UID: "pod-uid", ServiceAccountName: "default"},
			check: apierrors.IsBadRequest, wantMsg: `cannot bind token for serviceaccount "builder" to pod running with different serviceaccount name.`},
		{name: "minimum", req: authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: int64p(600)}}},
		{name: "maximum", req: authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: int64p(1 << 32)}}},
		{name: "pod bound", req: authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: podRef}}, bound: pod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := iss.TokenRequest(sa, &tt.req, tt.bound)
			if tt.check == nil {
				if err != nil || out.Status.Token == "" {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !tt.check(err) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantMsg)
			}
		})
	}
}

func TestTokenRequestDefaultsAndClaims(t *testing.T) {
	c := &clock{t: testNow}
	iss := newTestIssuer(t, c)
	sa := &corev1.ServiceAccount{ObjectMeta: meta("ns", "builder", "sa-uid")}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p"}}}
	out, err := iss.TokenRequest(sa, req, BoundObject{Kind: KindPod, Name: "p", UID: "pod-uid", ServiceAccountName: "builder", NodeName: "n1", NodeUID: "node-uid"})
	if err != nil {
		t.Fatal(err)
	}
	if req.Spec.ExpirationSeconds != nil || req.Status.Token != "" {
		t.Fatal("the request passed in was modified")
	}
	if out.Name != "builder" || out.Namespace != "ns" || *out.Spec.ExpirationSeconds != 3600 ||
		!reflect.DeepEqual(out.Spec.Audiences, []string{DefaultIssuer}) {
		t.Fatalf("defaults not applied: %+v", out)
	}
	if !out.Status.ExpirationTimestamp.Time.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("expiration %v", out.Status.ExpirationTimestamp)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(out.Status.Token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["kid"] != iss.keyID || tok.Header["alg"] != "RS256" {
		t.Fatalf("header %v", tok.Header)
	}
	claims := tok.Claims.(jwt.MapClaims)
	got, err := json.Marshal(claims["kubernetes.io"])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"namespace":"ns","node":{"name":"n1","uid":"node-uid"},"pod":{"name":"p","uid":"pod-uid"},"serviceaccount":{"name":"builder","uid":"sa-uid"}}`
	if string(got) != want {
		t.Fatalf("kubernetes.io claim %s, want %s", got, want)
	}
	if claims["sub"] != "system:serviceaccount:ns:builder" || claims["iss"] != DefaultIssuer ||
		claims["exp"] != float64(testNow.Add(time.Hour).Unix()) || claims["iat"] != float64(testNow.Unix()) ||
		claims["nbf"] != float64(testNow.Unix()) || len(claims["jti"].(string)) != 36 {
		t.Fatalf("claims %v", claims)
	}
}
