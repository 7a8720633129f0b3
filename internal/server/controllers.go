package server

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/controller/daemonset"
	"github.com/skiff-io/skiff/internal/controller/disruption"
	"github.com/skiff-io/skiff/internal/controller/endpoints"
	"github.com/skiff-io/skiff/internal/controller/endpointslice"
	"github.com/skiff-io/skiff/internal/controller/garbagecollector"
	"github.com/skiff-io/skiff/internal/controller/namespace"
	"github.com/skiff-io/skiff/internal/controller/resourcequota"
	"github.com/skiff-io/skiff/internal/controller/serviceaccount"
	"github.com/skiff-io/skiff/internal/controller/statefulset"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/record"
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
	// One event broadcaster for every controller; each records as its
	// own component, as Kubernetes' controllers do.
	events := record.NewBroadcaster()
	events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	defer events.Shutdown()
	recorder := func(name string) record.EventRecorder {
		return events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: name + "-controller"})
	}
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
	dsc, err := daemonset.New(daemonset.Config{Client: cs, Informers: factory, Recorder: recorder("daemonset"), Logger: s.log.With(log("daemonset")...)})
	if err := add("daemonset", dsc, err); err != nil {
		return err
	}
	stc, err := statefulset.New(statefulset.Config{Client: cs, Informers: factory, Recorder: recorder("statefulset"), Logger: s.log.With(log("statefulset")...)})
	if err := add("statefulset", stc, err); err != nil {
		return err
	}
	gc, err := garbagecollector.New(garbagecollector.Config{Client: cs, Metadata: md, Recorder: recorder("garbage-collector"), Logger: s.log.With(log("garbage-collector")...)})
	if err := add("garbage-collector", gc, err); err != nil {
		return err
	}
	ep, err := endpoints.New(endpoints.Config{Client: cs, Informers: factory, Recorder: recorder("endpoint"), Logger: s.log.With(log("endpoint")...)})
	if err := add("endpoint", ep, err); err != nil {
		return err
	}
	eps, err := endpointslice.New(endpointslice.Config{Client: cs, Informers: factory, Recorder: recorder("endpoint-slice"), Logger: s.log.With(log("endpointslice")...)})
	if err := add("endpointslice", eps, err); err != nil {
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
