// Package apps describes the apps/v1 resources (Deployments, ReplicaSets,
// DaemonSets, StatefulSets and ControllerRevisions): their defaulting,
// validation, status handling and table columns, following Kubernetes.
//
// It also exports the small validation and printing helpers that the batch,
// autoscaling and policy registries share with it (int-or-percent checks,
// ages, container columns), as Kubernetes' own policy validation reuses the
// apps ones.
package apps
