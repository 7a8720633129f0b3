package server

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/controller/namespace"
	"github.com/skiff-io/skiff/internal/controller/serviceaccount"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
)

// runControllers runs the controller manager's controllers in-process,
// as clients of the API server.
func (s *Server) runControllers(ctx context.Context, lb *loopback) error {
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
	ns, err := namespace.New(namespace.Config{Client: cs, Metadata: md, Informers: factory, Logger: s.log.With("component", "namespace-controller")})
	if err != nil {
		return fmt.Errorf("namespace controller: %w", err)
	}
	sa, err := serviceaccount.New(serviceaccount.Config{Client: cs, Informers: factory, CAPEM: lb.caPEM, Logger: s.log.With("component", "serviceaccount-controller")})
	if err != nil {
		return fmt.Errorf("serviceaccount controller: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	var g errgroup.Group
	g.Go(func() error { return ns.Run(ctx) })
	g.Go(func() error { return sa.Run(ctx) })
	return g.Wait()
}
