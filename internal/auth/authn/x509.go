package authn

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"

	"github.com/skiff-io/skiff/internal/auth/user"
)

// x509CredentialIDPrefix starts the credential-id Kubernetes records for a client
// certificate: "X509SHA256=" and the hex SHA-256 of the leaf's DER.
const x509CredentialIDPrefix = "X509SHA256="

// X509 authenticates requests by their client certificate. The TLS layer
// has already verified the chain against the cluster CA (it must request
// certificates with tls.VerifyClientCertIfGiven); the user is the leaf of
// the first verified chain: Name = subject common name, Groups = subject
// organizations. A request without a certificate, or whose certificate
// has no common name, is not ours; a certificate that the TLS layer did
// not verify is an error.
func X509() Request {
	return RequestFunc(func(r *http.Request) (*user.Info, bool, error) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return nil, false, nil
		}
		if len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
			return nil, false, errors.New("x509: client certificate was not verified")
		}
		leaf := r.TLS.VerifiedChains[0][0]
		if leaf.Subject.CommonName == "" {
			return nil, false, nil
		}
		sum := sha256.Sum256(leaf.Raw)
		return &user.Info{
			Name:   leaf.Subject.CommonName,
			Groups: append([]string(nil), leaf.Subject.Organization...),
			Extra:  map[string][]string{user.ExtraCredentialID: {fmt.Sprintf("%s%x", x509CredentialIDPrefix, sum[:])}},
		}, true, nil
	})
}
