// Package user describes who made a request, as the authenticators decide
// and the authorizers, admission plug-ins and audit log read it.
package user

import "context"

// Well-known user and group names, with Kubernetes' meaning.
const (
	Anonymous          = "system:anonymous"
	AllAuthenticated   = "system:authenticated"
	AllUnauthenticated = "system:unauthenticated"
	// SystemPrivilegedGroup is allowed everything by the authorizer.
	SystemPrivilegedGroup = "system:masters"
	NodesGroup            = "system:nodes"
	NodeUserPrefix        = "system:node:"
	BootstrapGroup        = "system:bootstrappers"
	BootstrapUserPrefix   = "system:bootstrap:"
	ServiceAccountPrefix  = "system:serviceaccount:"
	// ServiceAccountsGroup is every service account's group; each also
	// belongs to ServiceAccountsGroup + ":" + namespace.
	ServiceAccountsGroup = "system:serviceaccounts"
)

// Extra keys a service account token adds to the user.
const (
	ExtraPodName      = "authentication.kubernetes.io/pod-name"
	ExtraPodUID       = "authentication.kubernetes.io/pod-uid"
	ExtraNodeName     = "authentication.kubernetes.io/node-name"
	ExtraNodeUID      = "authentication.kubernetes.io/node-uid"
	ExtraCredentialID = "authentication.kubernetes.io/credential-id"
)

// Info is an authenticated (or anonymous) user. Values are never modified
// once a request carries them: copy before changing.
type Info struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// InGroup reports whether u belongs to group.
func (u *Info) InGroup(group string) bool {
	if u == nil {
		return false
	}
	for _, g := range u.Groups {
		if g == group {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// WithUser returns a context carrying u.
func WithUser(ctx context.Context, u *Info) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// From returns the user a context carries.
func From(ctx context.Context) (*Info, bool) {
	u, ok := ctx.Value(ctxKey{}).(*Info)
	return u, ok && u != nil
}
