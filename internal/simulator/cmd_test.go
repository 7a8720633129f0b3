package simulator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/simulator"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSimulateCommand(t *testing.T) {
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	ctx, cancel := context.WithCancel(context.Background())
	cmd := simulator.NewCommand()
	cmd.SetArgs([]string{"--kubeconfig", s.Kubeconfig, "--nodes", "2", "--name-prefix", "cli-", "--cpu", "4", "--memory", "8Gi",
		"--pods", "20", "--label", "pool=cli", "--taint", "dedicated=cli:NoSchedule", "--zones", "z1,z2", "--log-level", "warn"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("simulate: %v", err)
		}
	})
	poll(t, 20*time.Second, func() (bool, string) {
		n, err := s.Client.CoreV1().Nodes().Get(ctx, "cli-1", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		cpu, pods := n.Status.Capacity[corev1.ResourceCPU], n.Status.Capacity[corev1.ResourcePods]
		ok := nodeReady(n) && cpu.String() == "4" && pods.Value() == 20 && n.Labels["pool"] == "cli" &&
			n.Labels[corev1.LabelTopologyZone] == "z2" && len(n.Spec.Taints) == 1 && n.Spec.Taints[0].Key == "dedicated"
		return ok, fmt.Sprintf("node %+v", n)
	})
	if _, err := s.Client.CoreV1().Nodes().Get(ctx, "cli-0", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
}
