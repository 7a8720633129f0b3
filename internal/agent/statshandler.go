package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiff-io/skiff/internal/agent/stats"
)

// statsSource reads usage from the runtime and /proc for the agent's
// /stats/summary and /metrics/resource endpoints.
type statsSource struct {
	node    string
	rt      runtimeapi.RuntimeServiceClient
	builder stats.Builder
}

// summary takes one round of readings. Pod sandbox statistics are
// optional in CRI (containerd 1.6 may not report them); containers are
// enough.
func (s *statsSource) summary(ctx context.Context) (stats.Summary, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	node, err := stats.ReadNode("/proc", time.Now())
	if err != nil {
		return stats.Summary{}, err
	}
	cs, err := s.rt.ListContainerStats(ctx, &runtimeapi.ListContainerStatsRequest{})
	if err != nil {
		return stats.Summary{}, err
	}
	in := stats.Input{NodeName: s.node, Node: node, Containers: cs.Stats}
	if sbs, err := s.rt.ListPodSandboxStats(ctx, &runtimeapi.ListPodSandboxStatsRequest{}); err == nil {
		in.Sandboxes = sbs.Stats
	}
	return s.builder.Summary(in), nil
}

func (s *statsSource) summaryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sum, err := s.summary(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(sum)
	})
}

func (s *statsSource) metricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sum, err := s.summary(r.Context())
		w.Header().Set("Content-Type", stats.ContentType)
		_ = stats.WriteResourceMetrics(w, sum, err != nil)
	})
}
