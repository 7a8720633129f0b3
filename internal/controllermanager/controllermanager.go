// Package controllermanager runs Skiff's controllers as one component of
// `skiff server`, sharing an informer factory and an event broadcaster.
package controllermanager

import (
	"context"
	"fmt"
	"time"

	"github.com/skiff-io/skiff/internal/controller/clusterroleaggregation"
	"github.com/skiff-io/skiff/internal/controller/cronjob"
	"github.com/skiff-io/skiff/internal/controller/csrapproving"
	"github.com/skiff-io/skiff/internal/controller/csrsigning"
	"github.com/skiff-io/skiff/internal/controller/daemonset"
	"github.com/skiff-io/skiff/internal/controller/deployment"
	"github.com/skiff-io/skiff/internal/controller/disruption"
	"github.com/skiff-io/skiff/internal/controller/endpoints"
	"github.com/skiff-io/skiff/internal/controller/endpointslice"
	"github.com/skiff-io/skiff/internal/controller/garbagecollector"
	"github.com/skiff-io/skiff/internal/controller/job"
	"github.com/skiff-io/skiff/internal/controller/namespace"
	"github.com/skiff-io/skiff/internal/controller/nodeipam"
	"github.com/skiff-io/skiff/internal/controller/nodelifecycle"
	"github.com/skiff-io/skiff/internal/controller/replicaset"
	"github.com/skiff-io/skiff/internal/controller/resourcequota"
	"github.com/skiff-io/skiff/internal/controller/serviceaccount"
	"github.com/skiff-io/skiff/internal/controller/servicelb"
	"github.com/skiff-io/skiff/internal/controller/statefulset"
	"github.com/skiff-io/skiff/internal/controller/ttlafterfinished"
	"github.com/skiff-io/skiff/internal/server"
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

// Options are the controller manager's settings.
type Options struct {
	// ClusterCIDR is the range node pod CIDRs are allocated from.
	ClusterCIDR string
	// NodeMonitorGracePeriod is how long a node may go without a
	// heartbeat before it is marked unreachable (0: Kubernetes' 50s).
	NodeMonitorGracePeriod time.Duration
	// DisableServiceLB leaves LoadBalancer Services pending instead of
	// giving them the nodes' addresses (--disable-servicelb).
	DisableServiceLB bool
}

// Component returns the controller manager as a server component: it runs
// under the "skiff-controller-manager" Lease and is turned off by
// --disable-controllers.
func Component(opts Options) server.Component {
	return server.Component{Name: "skiff-controller-manager", Role: server.RoleControllers, LeaderElected: true, User: "system:kube-controller-manager",
		Run: func(ctx context.Context, env server.Env) error { return run(ctx, env, opts) }}
}

// run runs every controller until ctx ends.
func run(ctx context.Context, env server.Env, opts Options) error {
	cfg := env.Config
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
	ns, err := namespace.New(namespace.Config{Client: cs, Metadata: md, Informers: factory, Logger: env.Logger.With(log("namespace")...)})
	if err := add("namespace", ns, err); err != nil {
		return err
	}
	sa, err := serviceaccount.New(serviceaccount.Config{Client: cs, Informers: factory, CAPEM: env.CAPEM, Logger: env.Logger.With(log("serviceaccount")...)})
	if err := add("serviceaccount", sa, err); err != nil {
		return err
	}
	if env.Tokens != nil {
		tokens, err := serviceaccount.NewTokens(serviceaccount.TokensConfig{Client: cs, Informers: factory, Issuer: env.Tokens, CAPEM: env.CAPEM, Logger: env.Logger.With(log("serviceaccount-token")...)})
		if err := add("serviceaccount-token", tokens, err); err != nil {
			return err
		}
	}
	agg, err := clusterroleaggregation.New(clusterroleaggregation.Config{Client: cs, Informers: factory, Logger: env.Logger.With(log("clusterrole-aggregation")...)})
	if err := add("clusterrole-aggregation", agg, err); err != nil {
		return err
	}
	signer, err := csrsigning.New(csrsigning.Config{Client: cs, Informers: factory, Signer: env.PKI, Logger: env.Logger.With(log("csrsigning")...)})
	if err := add("csrsigning", signer, err); err != nil {
		return err
	}
	approver, err := csrapproving.New(csrapproving.Config{Client: cs, Informers: factory, Logger: env.Logger.With(log("csrapproving")...)})
	if err := add("csrapproving", approver, err); err != nil {
		return err
	}
	rq, err := resourcequota.New(resourcequota.Config{Client: cs, Metadata: md, Informers: factory, Logger: env.Logger.With(log("resourcequota")...)})
	if err := add("resourcequota", rq, err); err != nil {
		return err
	}
	dc, err := disruption.New(disruption.Config{Client: cs, Informers: factory, Logger: env.Logger.With(log("disruption")...)})
	if err := add("disruption", dc, err); err != nil {
		return err
	}
	rs, err := replicaset.New(replicaset.Config{Client: cs, Informers: factory, Recorder: recorder("replicaset"), Logger: env.Logger.With(log("replicaset")...)})
	if err := add("replicaset", rs, err); err != nil {
		return err
	}
	rc, err := replicaset.NewReplicationController(replicaset.Config{Client: cs, Informers: factory, Recorder: recorder("replication"), Logger: env.Logger.With(log("replication")...)})
	if err := add("replication", rc, err); err != nil {
		return err
	}
	dep, err := deployment.New(deployment.Config{Client: cs, Informers: factory, Recorder: recorder("deployment"), Logger: env.Logger.With(log("deployment")...)})
	if err := add("deployment", dep, err); err != nil {
		return err
	}
	jc, err := job.New(job.Config{Client: cs, Informers: factory, Recorder: recorder("job"), Logger: env.Logger.With(log("job")...)})
	if err := add("job", jc, err); err != nil {
		return err
	}
	cj, err := cronjob.New(cronjob.Config{Client: cs, Informers: factory, Recorder: recorder("cronjob"), Logger: env.Logger.With(log("cronjob")...)})
	if err := add("cronjob", cj, err); err != nil {
		return err
	}
	ttl, err := ttlafterfinished.New(ttlafterfinished.Config{Client: cs, Informers: factory, Logger: env.Logger.With(log("ttl-after-finished")...)})
	if err := add("ttl-after-finished", ttl, err); err != nil {
		return err
	}
	dsc, err := daemonset.New(daemonset.Config{Client: cs, Informers: factory, Recorder: recorder("daemonset"), Logger: env.Logger.With(log("daemonset")...)})
	if err := add("daemonset", dsc, err); err != nil {
		return err
	}
	stc, err := statefulset.New(statefulset.Config{Client: cs, Informers: factory, Recorder: recorder("statefulset"), Logger: env.Logger.With(log("statefulset")...)})
	if err := add("statefulset", stc, err); err != nil {
		return err
	}
	gc, err := garbagecollector.New(garbagecollector.Config{Client: cs, Metadata: md, Recorder: recorder("garbage-collector"), Logger: env.Logger.With(log("garbage-collector")...)})
	if err := add("garbage-collector", gc, err); err != nil {
		return err
	}
	if !opts.DisableServiceLB {
		lb, err := servicelb.New(servicelb.Config{Client: cs, Informers: factory, Logger: env.Logger.With(log("servicelb")...)})
		if err := add("servicelb", lb, err); err != nil {
			return err
		}
	}
	ep, err := endpoints.New(endpoints.Config{Client: cs, Informers: factory, Recorder: recorder("endpoint"), Logger: env.Logger.With(log("endpoint")...)})
	if err := add("endpoint", ep, err); err != nil {
		return err
	}
	eps, err := endpointslice.New(endpointslice.Config{Client: cs, Informers: factory, Recorder: recorder("endpoint-slice"), Logger: env.Logger.With(log("endpointslice")...)})
	if err := add("endpointslice", eps, err); err != nil {
		return err
	}
	ipam, err := nodeipam.New(nodeipam.Config{Client: cs, Informers: factory, Recorder: recorder("node-ipam"), ClusterCIDR: opts.ClusterCIDR, Logger: env.Logger.With(log("node-ipam")...)})
	if err := add("node-ipam", ipam, err); err != nil {
		return err
	}
	nlc, err := nodelifecycle.New(nodelifecycle.Config{Client: cs, Informers: factory, Recorder: recorder("node-lifecycle"), GracePeriod: opts.NodeMonitorGracePeriod, Logger: env.Logger.With(log("node-lifecycle")...)})
	if err := add("node-lifecycle", nlc, err); err != nil {
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
