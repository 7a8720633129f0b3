package server

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/controller/disruption"
	"github.com/skiff-io/skiff/internal/controller/namespace"
	"github.com/skiff-io/skiff/internal/controller/resourcequota"
	"github.com/skiff-io/skiff/internal/controller/serviceaccount"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
)

// runner is a controller the controller manager runs.
type runner interface {
	Run(ctx context.Context) error
}

// runControllers runs the controller manager's controllers in-process,
// as clients of the API server sharing one informer factory, while this
// server holds the controller manager's lease.
func (s *Server) runControllers(ctx context.Context, lb *loopback) error {
	return s.whileLeading(ctx, lb, "skiff-controller-manager", func(ctx context.Context) error {
		return s.controllerManager(ctx, lb)
	})
}

func (s *Server) controllerManager(ctx context.Context, lb *loopback) error {
	cfg := lb.restConfig()
	cfg.UserAgent = "skiff-controller-manager"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	log := func(name string) []any { return []any{"component", name + "-controller"} }
	var runners []runner
	add := func(name string, r runner, err error) error {
		if err != nil {
			return fmt.Errorf("%s controller: %w", name, err)
		}
		runners = append(runners, r)
		return nil
	}
	ns, err := namespace.New(namespace.Config{Client: cs, Metadata: md, Informers: factory, Logger: s.log.With(log("namespace")...)})
	if err := add("namespace", ns, err); err != nil {
		return err
	}
	sa, err := serviceaccount.New(serviceaccount.Config{Client: cs, Informers: factory, CAPEM: lb.caPEM, Logger: s.log.With(log("serviceaccount")...)})
	if err := add("serviceaccount", sa, err); err != nil {
		return err
	}
	rq, err := resourcequota.New(resourcequota.Config{Client: cs, Metadata: md, Informers: factory, Logger: s.log.With(log("resourcequota")...)})
	if err := add("resourcequota", rq, err); err != nil {
		return err
	}
	dc, err := disruption.New(disruption.Config{Client: cs, Informers: factory, Logger: s.log.With(log("disruption")...)})
	if err := add("disruption", dc, err); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	var g errgroup.Group
	for _, r := range runners {
		g.Go(func() error { return r.Run(ctx) })
	}
	return g.Wait()
}
