package apiserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/proxy"
)

// agentProxy serves the pod and node subresources that are answered by a
// node agent (pods/log, exec, attach, portforward, nodes/proxy) or by a
// pod itself (pods/proxy).
type agentProxy struct {
	getPod  func(ctx context.Context, namespace, name string) (*corev1.Pod, error)
	getNode func(ctx context.Context, name string) (*corev1.Node, error)
	// agentTLS is the client configuration for agents (the API server's
	// client certificate, the cluster CA); nil when none is configured,
	// and agent-bound requests answer 503.
	agentTLS *tls.Config
	// agents dials agents verifying their certificates; insecureAgents
	// skips the verification, for logs with insecureSkipTLSVerifyBackend.
	agents, insecureAgents *http.Transport
	// direct reaches pods and other node ports; https is not verified, as
	// Kubernetes' proxy transport does not verify pods either.
	direct *http.Transport
	// lookup resolves node host names for nodes/proxy (lookupHost;
	// replaced in tests).
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	log    *slog.Logger
}

// newAgentProxy builds the transports; agentTLS may be nil.
func newAgentProxy(getPod func(context.Context, string, string) (*corev1.Pod, error),
	getNode func(context.Context, string) (*corev1.Node, error), agentTLS *tls.Config, log *slog.Logger) *agentProxy {
	p := &agentProxy{getPod: getPod, getNode: getNode, log: log, lookup: lookupHost,
		direct: newTransport(&tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})} //nolint:gosec // pods are not verified (Kubernetes' proxy transport)
	if agentTLS != nil {
		p.agentTLS = agentTLS.Clone()
		// Upgrades need HTTP/1.1.
		p.agentTLS.NextProtos = []string{"http/1.1"}
		insecure := p.agentTLS.Clone()
		insecure.InsecureSkipVerify = true
		p.agents, p.insecureAgents = newTransport(p.agentTLS), newTransport(insecure)
	}
	return p
}

// newTransport returns a transport that never uses an environment proxy:
// pod and node traffic must not leave the cluster through one.
func newTransport(c *tls.Config) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       c,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// errNoAgentClient answers agent-bound requests when the API server has no
// client credentials for agents.
var errNoAgentClient = apierrors.NewServiceUnavailable("the API server has no client credentials for node agents")

// agentLocation resolves the node a request goes to and returns the URL of
// path with query q on its agent.
func (p *agentProxy) agentLocation(ctx context.Context, nodeName, path string, q url.Values) (*url.URL, error) {
	if p.agentTLS == nil {
		return nil, errNoAgentClient
	}
	node, err := p.getNode(ctx, nodeName)
	if err != nil {
		return nil, err
	}
	host, port, err := agentAddress(node)
	if err != nil {
		return nil, unknownError(err)
	}
	return agentURL(host, port, path, q)
}

// upgradeProxy proxies a request to loc: an upgrade (SPDY or WebSocket)
// becomes a raw two-way copy after the backend's 101; a plain request is
// reverse-proxied unless upgradeRequired, when it is refused with 400.
func (p *agentProxy) upgradeProxy(loc *url.URL, transport http.RoundTripper, wrapTransport, upgradeRequired bool) http.Handler {
	h := proxy.NewUpgradeAwareHandler(loc, transport, wrapTransport, upgradeRequired, proxyErrorResponder{log: p.log})
	h.UseLocationHost = true
	return h
}

// proxyErrorResponder writes proxying errors as Kubernetes does: an API
// error keeps its status; anything else (a backend that cannot be dialed)
// is a 500 carrying the error's text.
type proxyErrorResponder struct {
	log *slog.Logger
}

// Error writes err as a Status.
func (r proxyErrorResponder) Error(w http.ResponseWriter, req *http.Request, err error) {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		r.log.Info("proxying to a node agent or pod failed", "path", req.URL.Path, "err", err)
		err = unknownError(err)
	}
	writeError(w, err)
}

// unknownError is how Kubernetes reports an error that is not an API
// error: 500 with the error's text as the message and no reason.
func unknownError(err error) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Message: err.Error(),
	}}
}

// errorf is unknownError of a formatted message.
func errorf(format string, args ...any) error {
	return unknownError(fmt.Errorf(format, args...))
}
