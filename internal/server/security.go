package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/skiff-io/skiff/internal/admission"
	"github.com/skiff-io/skiff/internal/admission/podsecurity"
	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/audit"
	"github.com/skiff-io/skiff/internal/auth/authn"
	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/filters"
	"github.com/skiff-io/skiff/internal/auth/node"
	"github.com/skiff-io/skiff/internal/auth/rbac"
	"github.com/skiff-io/skiff/internal/auth/reviews"
	"github.com/skiff-io/skiff/internal/auth/serviceaccount"
	"github.com/skiff-io/skiff/internal/join"
	"github.com/skiff-io/skiff/internal/pki"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

var errUnexpectedType = errors.New("unexpected object type in the cache")

// tokenCacheTTL is how long a successful token authentication is reused.
const tokenCacheTTL = 10 * time.Second

// publicPaths answer anonymous requests, as Kubernetes' default RBAC lets
// system:unauthenticated reach health checks and the version.
var publicPaths = []string{"/healthz", "/livez", "/readyz", "/version"}

// security is everything that decides who a request comes from and what
// it may do.
type security struct {
	issuer   *serviceaccount.Issuer
	authn    authn.Request
	tokens   authn.Token
	authz    authorizer.Authorizer
	rbac     *rbac.Authorizer
	reviewer *reviews.Reviewer
	st       *stores
	// serviceAccounts is the ServiceAccount admission plug-in; admission
	// holds NodeRestriction, PodSecurity and RBAC's escalation check.
	serviceAccounts apiserver.Admission
	admission       []apiserver.Admission
}

// newSecurity builds the authenticators and authorizers over the API
// server's cache.
func newSecurity(dataDir string, st *stores) (*security, error) {
	key, err := serviceaccount.LoadOrCreateKey(filepath.Join(dataDir, pki.TLSDirName, "service-account.key"))
	if err != nil {
		return nil, fmt.Errorf("service account key: %w", err)
	}
	issuer, err := serviceaccount.New(serviceaccount.IssuerConfig{Key: key})
	if err != nil {
		return nil, err
	}
	getters := serviceaccount.Getters{
		ServiceAccount: func(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
			return get[*corev1.ServiceAccount](ctx, st.serviceAccounts, ns, name)
		},
		Secret: func(ctx context.Context, ns, name string) (*corev1.Secret, error) {
			return get[*corev1.Secret](ctx, st.secrets, ns, name)
		},
		Pod: func(ctx context.Context, ns, name string) (*corev1.Pod, error) {
			return get[*corev1.Pod](ctx, st.pods, ns, name)
		},
		Node: func(ctx context.Context, name string) (*corev1.Node, error) {
			return get[*corev1.Node](ctx, st.nodes, "", name)
		},
	}
	// Verifying a JWT costs more than the rest of a GET: successful logins
	// are reused for 10 s, as Kubernetes does.
	tokens := authn.CachedToken(authn.UnionToken(
		serviceaccount.Authenticator(issuer, getters),
		authn.Bootstrap(getters.Secret, nil),
	), authn.CacheConfig{TTL: tokenCacheTTL})
	rb := rbac.New(rbacSource{st})
	az := authorizer.Union(authorizer.PrivilegedGroup(), node.New(nodeSource{st}), rb)
	sec := &security{
		issuer: issuer,
		authn:  authn.UnionRequest(authn.X509(), authn.BearerToken(tokens)),
		tokens: tokens,
		authz:  az,
		rbac:   rb,
		st:     st,
	}
	sec.serviceAccounts = &admission.ServiceAccount{Accounts: func(ns, name string) (*corev1.ServiceAccount, error) {
		return get[*corev1.ServiceAccount](context.Background(), st.serviceAccounts, ns, name)
	}}
	sec.reviewer = &reviews.Reviewer{Authorizer: az, Rules: rb, Tokens: tokens, APIAudiences: issuer.APIAudiences()}
	getNamespace := func(name string) (*corev1.Namespace, error) {
		return get[*corev1.Namespace](context.Background(), st.namespaces, "", name)
	}
	sec.admission = []apiserver.Admission{
		&admission.NodeRestriction{
			GetPod: func(ns, name string) (*corev1.Pod, error) {
				return get[*corev1.Pod](context.Background(), st.pods, ns, name)
			},
			GetNode: func(name string) (*corev1.Node, error) {
				return get[*corev1.Node](context.Background(), st.nodes, "", name)
			},
		},
		&podsecurity.Admission{
			Namespaces: getNamespace,
			Pods:       func(ns string) ([]*corev1.Pod, error) { return list[*corev1.Pod](st.pods, ns) },
			Annotate:   func(a *apiserver.Attributes, k, v string) { audit.AddAnnotation(a.Context(), k, v) },
		},
		&rbac.EscalationCheck{Authorizer: az, Rules: rb, Source: rbacSource{st}},
		&admission.CertificateApproval{Authorizer: az},
		&admission.CertificateSigning{Authorizer: az},
		admission.CertificateSubjectRestriction{},
	}
	return sec, nil
}

// handler wraps the API server in the request filters, outermost first:
// authentication, audit, impersonation, authorization. Requests refused by
// authentication are answered through the audit filter too, so that the
// log records them.
func (sec *security) handler(api http.Handler, auditCfg audit.FilterConfig) http.Handler {
	cfg := filters.Config{Authorizer: sec.authz, Annotate: audit.AddAnnotation}
	h := filters.Authorization(cfg, api)
	h = filters.Impersonation(cfg, audit.SetImpersonatedUser, h)
	h = audit.Filter(auditCfg, h)
	return authn.Filter(sec.authn, publicPaths, h, audit.Filter(auditCfg, http.HandlerFunc(authn.Unauthorized)))
}

// tokenIssuer serves serviceaccounts/<name>/token from the cache.
type tokenIssuer struct {
	issuer *serviceaccount.Issuer
	st     *stores
}

// TokenRequest implements apiserver.TokenIssuer.
func (t tokenIssuer) TokenRequest(ctx context.Context, ns, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	sa, err := get[*corev1.ServiceAccount](ctx, t.st.serviceAccounts, ns, name)
	if err != nil {
		return nil, err
	}
	var bound serviceaccount.BoundObject
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		kind, err := serviceaccount.BoundObjectKind(name, ref)
		if err != nil {
			return nil, err
		}
		bound = serviceaccount.BoundObject{Kind: kind, Name: ref.Name}
		switch kind {
		case serviceaccount.KindPod:
			pod, err := get[*corev1.Pod](ctx, t.st.pods, ns, ref.Name)
			if err != nil {
				return nil, err
			}
			bound.UID, bound.ServiceAccountName, bound.NodeName = pod.UID, pod.Spec.ServiceAccountName, pod.Spec.NodeName
			if pod.Spec.NodeName != "" {
				if n, err := get[*corev1.Node](ctx, t.st.nodes, "", pod.Spec.NodeName); err == nil {
					bound.NodeUID = n.UID
				}
			}
		case serviceaccount.KindSecret:
			secret, err := get[*corev1.Secret](ctx, t.st.secrets, ns, ref.Name)
			if err != nil {
				return nil, err
			}
			bound.UID = secret.UID
		case serviceaccount.KindNode:
			n, err := get[*corev1.Node](ctx, t.st.nodes, "", ref.Name)
			if err != nil {
				return nil, err
			}
			bound.UID = n.UID
		}
	}
	return t.issuer.TokenRequest(sa, tr, bound)
}

// auditFilterConfig builds the audit filter's configuration from the
// --audit-* flags; log is nil when auditing is off.
func (s *Server) auditFilterConfig() (audit.FilterConfig, *audit.LogWriter, error) {
	cfg := audit.FilterConfig{Logger: s.log, Policy: s.auditPolicy}
	path, enabled := audit.ResolveLogPath(s.cfg.Audit.LogPath, s.cfg.DataDir)
	if !enabled {
		return cfg, nil, nil
	}
	w, err := audit.NewLogWriter(audit.LogConfig{Path: path, MaxSizeMB: s.cfg.Audit.MaxSizeMB,
		MaxBackups: s.cfg.Audit.MaxBackups, MaxAgeDays: s.cfg.Audit.MaxAgeDays})
	if err != nil {
		return cfg, nil, fmt.Errorf("audit log: %w", err)
	}
	cfg.Sink = w
	return cfg, w, nil
}

// securityDefaults is the bootstrap step that writes the default RBAC
// policy and the join token's bootstrap Secret.
func (s *Server) securityDefaults(token join.Token) func(context.Context, kubernetes.Interface) error {
	return func(ctx context.Context, cs kubernetes.Interface) error {
		if err := rbac.EnsureDefaults(ctx, cs, s.log); err != nil {
			return fmt.Errorf("default RBAC policy: %w", err)
		}
		if err := join.EnsureBootstrapSecret(ctx, cs, token); err != nil {
			return fmt.Errorf("join token: %w", err)
		}
		return nil
	}
}
