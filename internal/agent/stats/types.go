// Package stats builds the node agent's resource usage reports from CRI stats
// and /proc: the kubelet's /stats/summary document and the Prometheus text
// served at /metrics/resource, which metrics-server scrapes.
package stats

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Summary is the subset of the kubelet's stats/v1alpha1 Summary the agent
// serves at /stats/summary; field names match the kubelet's JSON.
type Summary struct {
	Node NodeStats  `json:"node"`
	Pods []PodStats `json:"pods"`
}

// NodeStats is the node's own usage.
type NodeStats struct {
	NodeName string       `json:"nodeName"`
	CPU      *CPUStats    `json:"cpu,omitempty"`
	Memory   *MemoryStats `json:"memory,omitempty"`
}

// PodStats is one pod's usage and that of its containers.
type PodStats struct {
	PodRef     PodReference     `json:"podRef"`
	StartTime  *metav1.Time     `json:"startTime,omitempty"`
	Containers []ContainerStats `json:"containers"`
	CPU        *CPUStats        `json:"cpu,omitempty"`
	Memory     *MemoryStats     `json:"memory,omitempty"`
}

// PodReference identifies a pod.
type PodReference struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	UID       string `json:"uid"`
}

// ContainerStats is one container's usage.
type ContainerStats struct {
	Name      string       `json:"name"`
	StartTime *metav1.Time `json:"startTime,omitempty"`
	CPU       *CPUStats    `json:"cpu,omitempty"`
	Memory    *MemoryStats `json:"memory,omitempty"`
}

// CPUStats is CPU usage at a point in time.
type CPUStats struct {
	Time metav1.Time `json:"time"`
	// UsageNanoCores is the average usage since the previous sample, in
	// billionths of a core.
	UsageNanoCores *uint64 `json:"usageNanoCores,omitempty"`
	// UsageCoreNanoSeconds is the cumulative CPU time consumed.
	UsageCoreNanoSeconds *uint64 `json:"usageCoreNanoSeconds,omitempty"`
}

// MemoryStats is memory usage at a point in time.
type MemoryStats struct {
	Time            metav1.Time `json:"time"`
	AvailableBytes  *uint64     `json:"availableBytes,omitempty"`
	UsageBytes      *uint64     `json:"usageBytes,omitempty"`
	WorkingSetBytes *uint64     `json:"workingSetBytes,omitempty"`
	RSSBytes        *uint64     `json:"rssBytes,omitempty"`
}
