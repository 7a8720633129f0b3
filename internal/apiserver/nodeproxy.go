package apiserver

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// servePodProxy serves pods/proxy: id is "name", "name:port" or
// "scheme:name:port"; the request goes to the pod's IP over plain HTTP
// (or unverified HTTPS), with subpath as the path.
func (p *agentProxy) servePodProxy(w http.ResponseWriter, r *http.Request, namespace, id, subpath string) error {
	scheme, name, port, ok := utilnet.SplitSchemeNamePort(id)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid pod request %q", id))
	}
	pod, err := p.getPod(r.Context(), namespace, name)
	if err != nil {
		return err
	}
	target, err := podProxyTarget(pod, scheme, port)
	if err != nil {
		return err
	}
	p.proxyTo(w, r, target, subpath, p.direct)
	return nil
}

// serveNodeProxy serves nodes/proxy: id is "name", "name:port" or
// "scheme:name:port". Without a port, or with the agent's, the request
// goes to the node's agent over its TLS; any other port is reached like a
// pod, and must not be a loopback or link-local address.
func (p *agentProxy) serveNodeProxy(w http.ResponseWriter, r *http.Request, id, subpath string) error {
	scheme, name, port, ok := utilnet.SplitSchemeNamePort(id)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid node request %q", id))
	}
	node, err := p.getNode(r.Context(), name)
	if err != nil {
		return err
	}
	host, agentPort, err := agentAddress(node)
	if err != nil {
		return unknownError(err)
	}
	if port == "" || port == strconv.Itoa(agentPort) {
		if p.agentTLS == nil {
			return errNoAgentClient
		}
		p.proxyTo(w, r, proxyTarget{Scheme: "https", Host: host, Port: strconv.Itoa(agentPort)}, subpath, p.agents)
		return nil
	}
	if err := proxyableHost(r.Context(), p.lookup, host); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	if scheme == "" {
		scheme = "http"
	}
	p.proxyTo(w, r, proxyTarget{Scheme: scheme, Host: host, Port: port}, subpath, p.direct)
	return nil
}

// proxyTo reverse-proxies (or, for upgrades, splices) the request to the
// target with subpath as its path; links in HTML answers are rewritten to
// stay below the proxy URL.
func (p *agentProxy) proxyTo(w http.ResponseWriter, r *http.Request, t proxyTarget, subpath string, transport http.RoundTripper) {
	host := t.Host
	if t.Port != "" {
		host = net.JoinHostPort(t.Host, t.Port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	loc := &url.URL{Scheme: t.Scheme, Host: host, Path: joinProxyPath("", subpath, strings.HasSuffix(r.URL.Path, "/"))}
	p.upgradeProxy(loc, transport, true, false).ServeHTTP(w, r)
}
