// Package streamproxy bridges the WebSocket protocols kubectl speaks to the
// API server and the SPDY protocols node agents (and container runtimes'
// streaming servers) speak:
//
//   - Translator serves exec and attach for a client using the
//     v5.channel.k8s.io WebSocket subprotocol by running the session as an
//     SPDY remote-command client against the agent, copying stdin, stdout,
//     stderr and terminal resizes and reporting the outcome on the error
//     channel as a Status.
//   - Tunnel serves port-forward for a client tunnelling SPDY inside a
//     WebSocket (subprotocol SPDY/3.1+portforward.k8s.io): it upgrades a
//     connection to the agent to SPDY and relays the SPDY bytes unchanged
//     between that connection and the WebSocket's binary messages.
package streamproxy
