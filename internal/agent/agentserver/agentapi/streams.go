package agentapi

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// DecodeExecOptions reads PodExecOptions from the query of a pods/exec
// request (stdin, stdout, stderr, tty, container, command). As in
// Kubernetes, stdout and stderr default to true whenever any parameter is
// given, so a client cannot turn them off through the API.
func DecodeExecOptions(q url.Values) *corev1.PodExecOptions {
	opts := &corev1.PodExecOptions{
		Stdin:     boolValue(q["stdin"]),
		Stdout:    boolValue(q["stdout"]),
		Stderr:    boolValue(q["stderr"]),
		TTY:       boolValue(q["tty"]),
		Container: q.Get("container"),
		Command:   q["command"],
	}
	if len(q) > 0 {
		opts.Stdout, opts.Stderr = true, true
	}
	return opts
}

// DecodeAttachOptions reads PodAttachOptions from the query of a
// pods/attach request, defaulting like DecodeExecOptions.
func DecodeAttachOptions(q url.Values) *corev1.PodAttachOptions {
	opts := &corev1.PodAttachOptions{
		Stdin:     boolValue(q["stdin"]),
		Stdout:    boolValue(q["stdout"]),
		Stderr:    boolValue(q["stderr"]),
		TTY:       boolValue(q["tty"]),
		Container: q.Get("container"),
	}
	if len(q) > 0 {
		opts.Stdout, opts.Stderr = true, true
	}
	return opts
}

// StreamOptions are the streams of an exec or attach session.
type StreamOptions struct {
	Stdin, Stdout, Stderr, TTY bool
}

// EncodeStreamQuery writes an exec or attach request for the agent with
// the kubelet's parameter names: input, output, error and tty set to "1",
// and one command parameter per argument (none for attach).
func EncodeStreamQuery(s StreamOptions, command []string) url.Values {
	q := url.Values{}
	flag := func(name string, on bool) {
		if on {
			q.Set(name, "1")
		}
	}
	flag(corev1.ExecStdinParam, s.Stdin)
	flag(corev1.ExecStdoutParam, s.Stdout)
	flag(corev1.ExecStderrParam, s.Stderr)
	flag(corev1.ExecTTYParam, s.TTY)
	for _, c := range command {
		q.Add(corev1.ExecCommandParam, c)
	}
	return q
}

// errNoStreams is the kubelet's answer to a session without any stream.
var errNoStreams = errors.New("you must specify at least 1 of stdin, stdout, stderr")

// DecodeStreamQuery reads what EncodeStreamQuery wrote, with the kubelet's
// rules: a stream is on only when its parameter is "1"; with a TTY, stderr
// is merged into stdout and so turned off; at least one stream is
// required.
func DecodeStreamQuery(q url.Values) (StreamOptions, []string, error) {
	s := StreamOptions{
		Stdin:  q.Get(corev1.ExecStdinParam) == "1",
		Stdout: q.Get(corev1.ExecStdoutParam) == "1",
		Stderr: q.Get(corev1.ExecStderrParam) == "1",
		TTY:    q.Get(corev1.ExecTTYParam) == "1",
	}
	if s.TTY {
		s.Stderr = false
	}
	if !s.Stdin && !s.Stdout && !s.Stderr {
		return StreamOptions{}, nil, errNoStreams
	}
	return s, q[corev1.ExecCommandParam], nil
}

// DecodePortForwardOptions reads PodPortForwardOptions from the query of a
// pods/portforward request: "ports" parameters, each a port or a
// comma-separated list of ports.
func DecodePortForwardOptions(q url.Values) (*corev1.PodPortForwardOptions, error) {
	opts := &corev1.PodPortForwardOptions{}
	for _, v := range q["ports"] {
		for _, p := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				return nil, fmt.Errorf("cannot convert to []int32: %w", err)
			}
			opts.Ports = append(opts.Ports, int32(n))
		}
	}
	return opts, nil
}

// EncodePorts writes forwarded ports for the agent as the kubelet expects
// them: one comma-separated "port" parameter; no ports, no parameter.
func EncodePorts(ports []int32) url.Values {
	q := url.Values{}
	if len(ports) == 0 {
		return q
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	q.Set(corev1.PortHeader, strings.Join(s, ","))
	return q
}

// DecodePorts reads the ports EncodePorts wrote; every port must be in
// 1-65535. No parameter means no ports (SPDY clients name the port of
// each stream in its headers instead).
func DecodePorts(q url.Values) ([]int32, error) {
	var ports []int32
	for _, v := range q[corev1.PortHeader] {
		for _, p := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				return nil, fmt.Errorf("unable to parse %q as a port: %w", p, err)
			}
			if n < 1 {
				return nil, fmt.Errorf("port %q must be > 0", p)
			}
			ports = append(ports, int32(n))
		}
	}
	return ports, nil
}
