package scheduler

import (
	"context"

	"github.com/skiff-io/skiff/internal/server"
)

// LeaseName is the kube-system Lease the scheduler holds while it runs,
// kube-scheduler's name: `skiff scheduler` processes and the schedulers of
// `skiff server` processes all compete for it, so one runs at a time.
const LeaseName = "kube-scheduler"

// Component is the scheduler as a part of `skiff server` (turned off by
// --disable-scheduler), elected through LeaseName. It runs with its own
// clients and informers (protobuf, unthrottled), as `skiff scheduler` does.
func Component() server.Component {
	return server.Component{Name: LeaseName, Role: server.RoleScheduler, LeaderElected: true, User: "system:kube-scheduler",
		Run: func(ctx context.Context, env server.Env) error {
			return RunStandalone(ctx, env.Config, StandaloneOptions{Logger: env.Logger})
		}}
}
