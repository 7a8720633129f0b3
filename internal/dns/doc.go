// Package dns is Skiff's cluster DNS: a DNS server built into `skiff
// server` that answers for the cluster domain (cluster.local by default)
// following the Kubernetes DNS-based service discovery specification, from
// informers over Services, EndpointSlices and (optionally) Pods, and
// forwards every other name to the host's resolvers through a small TTL
// cache.
//
// The decisions are pure: Resolve maps the cluster state (a Store) and a
// question to an answer, ResolvConf maps a pod's dnsPolicy to its
// resolv.conf. The Server does the I/O around them.
package dns
