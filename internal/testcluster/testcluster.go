// Package testcluster starts an in-process control plane with every
// component `skiff server` runs (controllers included), for tests that need
// the cluster to act on what they create. Tests of a single controller use
// internal/testserver instead and run that controller themselves.
package testcluster

import (
	"github.com/skiff-io/skiff/internal/agent"
	"github.com/skiff-io/skiff/internal/controllermanager"
	"testing"

	"github.com/skiff-io/skiff/internal/components"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
)

// Start runs a full control plane for the rest of the test.
func Start(t testing.TB) *testserver.Server {
	t.Helper()
	return StartWith(t, nil)
}

// StartWith is Start with a chance to change the configuration first.
func StartWith(t testing.TB, mutate func(*server.Config)) *testserver.Server {
	t.Helper()
	return testserver.StartWith(t, func(c *server.Config) {
		if mutate != nil {
			mutate(c)
		}
		c.Components = components.All(components.Options{
			Controllers: controllermanager.Options{ClusterCIDR: c.ClusterCIDR},
			Agent:       agent.Options{ClusterCIDR: c.ClusterCIDR, ServiceCIDR: c.ServiceCIDR},
		})
	})
}
