// Package prober decides the outcome of container probes for the node agent.
//
// Run performs one probe attempt (exec, httpGet, tcpSocket or grpc) the way
// the kubelet does. Manager runs one periodic worker per pod, container and
// probe kind and folds attempts into the Ready, Started and Failed answers the
// pod worker needs, following the thresholds and ordering rules documented for
// Kubernetes container probes.
package prober
