package apiserver

import (
	"net/http"

	"github.com/skiff-io/skiff/internal/agent/agentserver/agentapi"
	"github.com/skiff-io/skiff/internal/apiserver/streamproxy"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

// serveSession serves pods/exec (exec true) and pods/attach. A WebSocket
// client speaking v5.channel.k8s.io is translated to SPDY towards the
// agent; any other upgrade (SPDY, older WebSocket protocols) is proxied to
// the agent as is.
func (p *agentProxy) serveSession(w http.ResponseWriter, r *http.Request, pod *corev1.Pod, exec bool) error {
	q := r.URL.Query()
	var (
		name    string
		streams agentapi.StreamOptions
		command []string
		path    func(namespace, pod, container string) string
	)
	if exec {
		o := agentapi.DecodeExecOptions(q)
		name, command, path = o.Container, o.Command, agentapi.ExecPath
		streams = agentapi.StreamOptions{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, TTY: o.TTY}
	} else {
		o := agentapi.DecodeAttachOptions(q)
		name, path = o.Container, agentapi.AttachPath
		streams = agentapi.StreamOptions{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, TTY: o.TTY}
	}
	container, err := defaultContainer(pod, name)
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		return noHost(pod.Name)
	}
	loc, err := p.agentLocation(r.Context(), pod.Spec.NodeName, path(pod.Namespace, pod.Name, container), agentapi.EncodeStreamQuery(streams, command))
	if err != nil {
		return err
	}
	if wsstream.IsWebSocketRequestWithStreamCloseProtocol(r) {
		t := &streamproxy.Translator{
			Location: loc,
			TLS:      p.agentTLS,
			Streams:  streamproxy.Streams{Stdin: streams.Stdin, Stdout: streams.Stdout, Stderr: streams.Stderr, TTY: streams.TTY},
			Logger:   p.log,
		}
		t.ServeHTTP(w, r)
		return nil
	}
	p.upgradeProxy(loc, p.agents, false, true).ServeHTTP(w, r)
	return nil
}

// servePortForward serves pods/portforward: SPDY tunnelled in a WebSocket
// is untunnelled towards the agent; any other upgrade is proxied as is.
func (p *agentProxy) servePortForward(w http.ResponseWriter, r *http.Request, pod *corev1.Pod) error {
	opts, err := agentapi.DecodePortForwardOptions(r.URL.Query())
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	if pod.Spec.NodeName == "" {
		return noHost(pod.Name)
	}
	loc, err := p.agentLocation(r.Context(), pod.Spec.NodeName, agentapi.PortForwardPath(pod.Namespace, pod.Name), agentapi.EncodePorts(opts.Ports))
	if err != nil {
		return err
	}
	if wsstream.IsWebSocketRequestWithTunnelingProtocol(r) {
		t := &streamproxy.Tunnel{
			Location:  loc,
			Transport: p.agents,
			Error:     proxyErrorResponder{log: p.log}.Error,
			Logger:    p.log,
		}
		t.ServeHTTP(w, r)
		return nil
	}
	p.upgradeProxy(loc, p.agents, false, true).ServeHTTP(w, r)
	return nil
}
