// Package agentapi is the wire contract of the node agent's HTTPS API, which
// follows the kubelet's: the paths the API server calls and the query
// parameters it sends for container logs, exec, attach and port-forward,
// with the encoding and decoding both sides share.
//
// Query values are read as Kubernetes reads them: a boolean is true when
// the parameter is present with any value other than "0" or "false", a
// number or time that is empty counts as absent.
package agentapi
