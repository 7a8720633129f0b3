package agentserver

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
)

func TestVerifyAPIServerClient(t *testing.T) {
	chain := func(cn string, orgs ...string) [][]*x509.Certificate {
		return [][]*x509.Certificate{{{Subject: pkix.Name{CommonName: cn, Organization: orgs}}}}
	}
	cases := []struct {
		name   string
		chains [][]*x509.Certificate
		ok     bool
	}{
		{"api server", chain("skiff-apiserver-kubelet-client", "system:masters"), true},
		{"node", chain("system:node:n2", "system:nodes"), false},
		{"user", chain("carol", "qa-team"), false},
		{"no certificate", nil, false},
	}
	for _, tc := range cases {
		err := VerifyAPIServerClient(tls.ConnectionState{VerifiedChains: tc.chains})
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
