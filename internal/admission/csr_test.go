package admission

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	"github.com/skiff-io/skiff/internal/registry/certificates"
	"github.com/skiff-io/skiff/internal/registry/core"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func forgedCSR() *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{
		Username: "system:node:victim", UID: "forged", Groups: []string{"system:masters"},
		Extra: map[string]certificatesv1.ExtraValue{"forged": {"x"}},
	}}
}

func TestCSRRequester(t *testing.T) {
	alice := &user.Info{Name: "alice", UID: "u1", Groups: []string{"devs", user.AllAuthenticated}, Extra: map[string][]string{"scopes": {"a", "b"}}}
	tests := []struct {
		name string
		verb string
		user *user.Info
		want certificatesv1.CertificateSigningRequestSpec
	}{
		{name: "create sets requester", verb: "create", user: alice, want: certificatesv1.CertificateSigningRequestSpec{
			Username: "alice", UID: "u1", Groups: []string{"devs", user.AllAuthenticated},
			Extra: map[string]certificatesv1.ExtraValue{"scopes": {"a", "b"}}}},
		{name: "create without user clears", verb: "create"},
		{name: "user without extras", verb: "create", user: &user.Info{Name: "bob"}, want: certificatesv1.CertificateSigningRequestSpec{Username: "bob"}},
		{name: "update untouched", verb: "update", user: alice, want: forgedCSR().Spec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr := forgedCSR()
			a := &apiserver.Attributes{Resource: certificates.CertificateSigningRequests(), Verb: tt.verb, User: tt.user, Object: csr}
			if err := (CSRRequester{}).Admit(a); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(csr.Spec, tt.want) {
				t.Errorf("spec = %+v, want %+v", csr.Spec, tt.want)
			}
			if tt.user != nil && tt.verb == "create" && len(csr.Spec.Groups) > 0 {
				csr.Spec.Groups[0] = "changed"
				if tt.user.Groups[0] == "changed" {
					t.Error("groups share memory with the request's user")
				}
			}
		})
	}
}

func TestCSRRequesterIgnoresOtherResources(t *testing.T) {
	cm := &corev1.ConfigMap{}
	a := &apiserver.Attributes{Resource: core.ConfigMaps(), Verb: "create", User: &user.Info{Name: "x"}, Object: cm}
	if err := (CSRRequester{}).Admit(a); err != nil {
		t.Fatal(err)
	}
}

// signerAuthorizer allows verb on the listed signers resource names.
func signerAuthorizer(verb string, names ...string) authorizer.Authorizer {
	return authorizer.Func(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		if a.Verb == verb && a.APIGroup == "certificates.k8s.io" && a.Resource == "signers" && slices.Contains(names, a.Name) {
			return authorizer.Allow, "", nil
		}
		return authorizer.NoOpinion, "", nil
	})
}

func signerCSR(signer string, cert []byte) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		Spec:   certificatesv1.CertificateSigningRequestSpec{SignerName: signer},
		Status: certificatesv1.CertificateSigningRequestStatus{Certificate: cert},
	}
}

func TestCertificateApprovalAndSigning(t *testing.T) {
	alice := &user.Info{Name: "alice"}
	tests := []struct {
		name    string
		plugin  apiserver.Admission
		sub     string
		user    *user.Info
		obj     *certificatesv1.CertificateSigningRequest
		old     *certificatesv1.CertificateSigningRequest
		wantErr string
	}{
		{name: "approve allowed by name", plugin: &CertificateApproval{Authorizer: signerAuthorizer("approve", "example.com/a")}, sub: "approval",
			user: alice, obj: signerCSR("example.com/a", nil)},
		{name: "approve allowed by domain wildcard", plugin: &CertificateApproval{Authorizer: signerAuthorizer("approve", "example.com/*")}, sub: "approval",
			user: alice, obj: signerCSR("example.com/a", nil)},
		{name: "approve refused", plugin: &CertificateApproval{Authorizer: signerAuthorizer("sign", "example.com/a")}, sub: "approval",
			user: alice, obj: signerCSR("example.com/a", nil), wantErr: `user not permitted to approve requests with signerName "example.com/a"`},
		{name: "approval plug-in ignores status", plugin: &CertificateApproval{Authorizer: signerAuthorizer("none")}, sub: "status",
			user: alice, obj: signerCSR("example.com/a", nil)},
		{name: "in-process approval trusted", plugin: &CertificateApproval{Authorizer: signerAuthorizer("none")}, sub: "approval",
			obj: signerCSR("example.com/a", nil)},
		{name: "sign allowed", plugin: &CertificateSigning{Authorizer: signerAuthorizer("sign", "example.com/a")}, sub: "status",
			user: alice, obj: signerCSR("example.com/a", []byte("cert")), old: signerCSR("example.com/a", nil)},
		{name: "sign refused, old signer decides", plugin: &CertificateSigning{Authorizer: signerAuthorizer("sign", "example.com/b")}, sub: "status",
			user: alice, obj: signerCSR("example.com/b", []byte("cert")), old: signerCSR("example.com/a", nil),
			wantErr: `user not permitted to sign requests with signerName "example.com/a"`},
		{name: "status without certificate change", plugin: &CertificateSigning{Authorizer: signerAuthorizer("none")}, sub: "status",
			user: alice, obj: signerCSR("example.com/a", nil), old: signerCSR("example.com/a", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &apiserver.Attributes{Resource: certificates.CertificateSigningRequests(), Verb: "update", Subresource: tt.sub,
				Name: "req", User: tt.user, Object: tt.obj, Old: tt.old}
			err := tt.plugin.Admit(a)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want Forbidden %q", err, tt.wantErr)
			}
		})
	}
}

func TestCertificateSubjectRestriction(t *testing.T) {
	req := func(orgs ...string) []byte {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x", Organization: orgs}}, key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	}
	tests := []struct {
		name   string
		signer string
		orgs   []string
		refuse bool
	}{
		{"masters via apiserver client", certificatesv1.KubeAPIServerClientSignerName, []string{"devs", "system:masters"}, true},
		{"devs via apiserver client", certificatesv1.KubeAPIServerClientSignerName, []string{"devs"}, false},
		{"masters via other signer", "example.com/signer", []string{"system:masters"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr := &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: tt.signer, Request: req(tt.orgs...)}}
			a := &apiserver.Attributes{Resource: certificates.CertificateSigningRequests(), Verb: "create", Object: csr}
			err := CertificateSubjectRestriction{}.Admit(a)
			if (err != nil) != tt.refuse || (err != nil && !apierrors.IsForbidden(err)) {
				t.Fatalf("error = %v, want refusal %v", err, tt.refuse)
			}
		})
	}
}
