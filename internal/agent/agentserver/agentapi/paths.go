package agentapi

import (
	"net/url"
	"strings"
)

// Path prefixes of the agent's streaming endpoints, as the kubelet names
// them.
const (
	ContainerLogsPrefix = "/containerLogs/"
	ExecPrefix          = "/exec/"
	AttachPrefix        = "/attach/"
	PortForwardPrefix   = "/portForward/"
)

// ContainerLogsPath is the agent path serving a container's log.
func ContainerLogsPath(namespace, pod, container string) string {
	return ContainerLogsPrefix + escape(namespace, pod, container)
}

// ExecPath is the agent path running a command in a container.
func ExecPath(namespace, pod, container string) string {
	return ExecPrefix + escape(namespace, pod, container)
}

// AttachPath is the agent path attaching to a container's main process.
func AttachPath(namespace, pod, container string) string {
	return AttachPrefix + escape(namespace, pod, container)
}

// PortForwardPath is the agent path forwarding ports of a pod.
func PortForwardPath(namespace, pod string) string {
	return PortForwardPrefix + escape(namespace, pod)
}

func escape(segments ...string) string {
	out := make([]string, len(segments))
	for i, s := range segments {
		out[i] = url.PathEscape(s)
	}
	return strings.Join(out, "/")
}
