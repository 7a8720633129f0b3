package prober

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiff-io/skiff/internal/version"
)

// maxRedirects is how many same-host redirects an HTTP probe follows.
const maxRedirects = 10

// userAgent is the User-Agent the kubelet sends on probes, e.g.
// "kube-probe/1.37".
func userAgent() string {
	v := version.Info()
	return "kube-probe/" + v.Major + "." + v.Minor
}

// runHTTP performs an httpGet probe. Status codes 200-299 are success, 300-399
// (a redirect that was not followed because it leaves the host) are a warning,
// anything else or a transport error is failure.
func runHTTP(ctx context.Context, a *corev1.HTTPGetAction, t Target, timeout time.Duration) (Result, string, error) {
	req, err := newHTTPRequest(ctx, a, t)
	if err != nil {
		return Unknown, "", err
	}
	transport := &http.Transport{
		Proxy:              nil,
		DialContext:        probeDialer(timeout).DialContext,
		TLSClientConfig:    &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes do not verify the container's certificate, like the kubelet.
		DisableKeepAlives:  true,
		DisableCompression: true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: timeout, CheckRedirect: sameHostRedirects}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Unknown, "", fmt.Errorf("http probe: %w", ctx.Err())
		}
		return Failure, err.Error(), nil
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOutput))
	if err != nil {
		return Failure, err.Error(), nil
	}
	result, output := classifyHTTP(resp.StatusCode, string(body))
	return result, output, nil
}

// classifyHTTP maps an HTTP status code and (truncated) body to a probe result
// and output. The body is never part of a failure message, as in the kubelet.
func classifyHTTP(code int, body string) (Result, string) {
	switch {
	case code >= 200 && code < 300:
		return Success, body
	case code >= 300 && code < 400:
		return Warning, "Probe terminated redirects, Response body: " + body
	default:
		return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", code)
	}
}

// sameHostRedirects follows redirects only while they stay on the original
// host; a redirect elsewhere ends the chain with the 3xx response itself.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= maxRedirects {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// newHTTPRequest builds the GET request an httpGet action describes: scheme
// defaults to HTTP, host to the pod IP, headers as given (a Host header sets
// the request host), User-Agent and Accept defaulted when not given, an empty
// Accept header removing it.
func newHTTPRequest(ctx context.Context, a *corev1.HTTPGetAction, t Target) (*http.Request, error) {
	port, err := resolvePort(a.Port, t.Ports)
	if err != nil {
		return nil, fmt.Errorf("http probe: %w", err)
	}
	host := a.Host
	if host == "" {
		host = t.PodIP
	}
	if host == "" {
		return nil, errors.New("http probe: pod has no IP")
	}
	scheme := strings.ToLower(string(a.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	u := probeURL(scheme, host, port, a.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("http probe: %w", err)
	}
	header := make(http.Header, len(a.HTTPHeaders)+2)
	for _, h := range a.HTTPHeaders {
		header.Add(h.Name, h.Value)
	}
	if _, ok := header["User-Agent"]; !ok {
		header.Set("User-Agent", userAgent())
	}
	if _, ok := header["Accept"]; !ok {
		header.Set("Accept", "*/*")
	} else if header.Get("Accept") == "" {
		header.Del("Accept")
	}
	req.Header = header
	req.Host = header.Get("Host")
	return req, nil
}

// probeURL joins scheme, host, port and path into the probe URL. A path that
// does not parse is used verbatim, keeping the kubelet's lenient behaviour;
// a query string in the path is kept.
func probeURL(scheme, host string, port int, path string) *url.URL {
	u, err := url.Parse(path)
	if err != nil {
		u = &url.URL{Path: path}
	}
	u.Scheme = scheme
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))
	return u
}
