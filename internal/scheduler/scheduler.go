// Package scheduler is Skiff's pod scheduler, a client of the API server
// like kube-scheduler: shared informers feed a node/pod cache and a
// priority queue; one loop pops pods, runs the scheduling algorithm
// (internal/scheduler/core) against a snapshot of the cache, assumes the
// chosen node in the cache and binds through the API in the background;
// pods that fit nowhere get a PodScheduled=False condition, a
// FailedScheduling event and, if their priority allows, preemption of
// lower-priority pods.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"

	"github.com/skiff-io/skiff/internal/scheduler/cache"
	"github.com/skiff-io/skiff/internal/scheduler/core"
	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/plugins"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/helper"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/volumebinding"
	"github.com/skiff-io/skiff/internal/scheduler/preemption"
	"github.com/skiff-io/skiff/internal/scheduler/queue"
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	schedulinglisters "k8s.io/client-go/listers/scheduling/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

// DefaultSchedulerName is the spec.schedulerName this scheduler serves by
// default.
const DefaultSchedulerName = v1.DefaultSchedulerName

// Config configures a Scheduler.
type Config struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Recorder records events; nil makes New create one (source
	// "default-scheduler") that Run starts and stops.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// SchedulerName is the spec.schedulerName served (default
	// "default-scheduler").
	SchedulerName string
	// Binder binds pods (default: the pods/binding subresource).
	Binder Binder
	// Parallelism is the number of goroutines filtering and scoring nodes
	// (default 1: one cycle takes about 0.1 ms on 1,000 nodes, far below
	// what the API server needs per binding, so extra goroutines would only
	// take CPU from it).
	Parallelism int
	// PercentageOfNodesToScore is Kubernetes' setting (0: adaptive).
	PercentageOfNodesToScore int32
	// BindConcurrency bounds the bindings and status updates in flight
	// (default 64).
	BindConcurrency int
	// DisablePreemption turns preemption off.
	DisablePreemption bool
}

// Scheduler schedules pending pods until its context ends.
type Scheduler struct {
	cfg         Config
	log         *slog.Logger
	recorder    record.EventRecorder
	broadcaster record.EventBroadcaster
	binder      Binder

	cache    *cache.Cache
	queue    *queue.PriorityQueue
	snapshot *framework.Snapshot
	fw       *framework.Framework
	algo     *core.Algorithm
	preempt  *preemption.Evaluator

	pods            corelisters.PodLister
	priorityClasses schedulinglisters.PriorityClassLister
	pdbs            policylisters.PodDisruptionBudgetLister
	synced          []toolscache.InformerSynced

	inflight sync.WaitGroup
	sem      chan struct{}
}

// New builds a scheduler and registers its informers with cfg.Informers
// (the caller starts the factory); it performs no I/O.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Client == nil || cfg.Informers == nil {
		return nil, errors.New("scheduler: Client and Informers are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SchedulerName == "" {
		cfg.SchedulerName = DefaultSchedulerName
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 1
	}
	if cfg.BindConcurrency <= 0 {
		cfg.BindConcurrency = 64
	}
	s := &Scheduler{cfg: cfg, log: cfg.Logger.With("component", "scheduler"), binder: cfg.Binder,
		snapshot: framework.NewEmptySnapshot(), sem: make(chan struct{}, cfg.BindConcurrency)}
	if s.binder == nil {
		s.binder = APIBinder{Client: cfg.Client}
	}
	s.recorder = cfg.Recorder
	if s.recorder == nil {
		s.broadcaster = record.NewBroadcaster()
		s.recorder = s.broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: cfg.SchedulerName})
	}

	f := cfg.Informers
	core1 := f.Core().V1()
	podInf, nodeInf := core1.Pods(), core1.Nodes()
	s.pods = podInf.Lister()
	s.priorityClasses = f.Scheduling().V1().PriorityClasses().Lister()
	s.pdbs = f.Policy().V1().PodDisruptionBudgets().Lister()
	handle := plugins.Handle{
		Client:     cfg.Client,
		Namespaces: core1.Namespaces().Lister(),
		Workloads: helper.WorkloadListers{Services: core1.Services().Lister(), ReplicationControllers: core1.ReplicationControllers().Lister(),
			ReplicaSets: f.Apps().V1().ReplicaSets().Lister(), StatefulSets: f.Apps().V1().StatefulSets().Lister()},
		Volumes: volumebinding.Listers{Claims: core1.PersistentVolumeClaims().Lister(), Volumes: core1.PersistentVolumes().Lister(),
			Classes: f.Storage().V1().StorageClasses().Lister()},
	}
	fw, err := plugins.NewDefaultFramework(handle, cfg.Parallelism)
	if err != nil {
		return nil, fmt.Errorf("scheduler framework: %w", err)
	}
	s.fw = fw
	seed := rand.Uint64()
	s.algo = core.New(fw, cfg.PercentageOfNodesToScore, seed)
	s.preempt = preemption.New(fw, seed+1)
	s.cache = cache.New(s.podPriority)
	s.queue = queue.New(queue.Options{Priority: s.podPriority, Interest: fw.EventInterest})

	if err := s.addHandlers(f); err != nil {
		return nil, err
	}
	for _, inf := range []toolscache.SharedIndexInformer{
		podInf.Informer(), nodeInf.Informer(), core1.Namespaces().Informer(), core1.Services().Informer(),
		core1.ReplicationControllers().Informer(), f.Apps().V1().ReplicaSets().Informer(), f.Apps().V1().StatefulSets().Informer(),
		core1.PersistentVolumeClaims().Informer(), core1.PersistentVolumes().Informer(), f.Storage().V1().StorageClasses().Informer(),
		f.Scheduling().V1().PriorityClasses().Informer(), f.Policy().V1().PodDisruptionBudgets().Informer(),
	} {
		s.synced = append(s.synced, inf.HasSynced)
	}
	return s, nil
}

// Run waits for the informers to sync, then schedules until ctx ends; it
// waits for bindings in flight before returning.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.broadcaster != nil {
		s.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: s.cfg.Client.CoreV1().Events("")})
		defer s.broadcaster.Shutdown()
	}
	if !toolscache.WaitForCacheSync(ctx.Done(), s.synced...) {
		return nil
	}
	s.log.Info("scheduler started", "schedulerName", s.cfg.SchedulerName)
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.queue.Run(qctx)
	for {
		p, err := s.queue.Pop(ctx)
		if err != nil {
			break
		}
		s.scheduleOne(ctx, p)
	}
	s.inflight.Wait()
	return nil
}

// Cache exposes the scheduler cache (tests and benchmarks).
func (s *Scheduler) Cache() *cache.Cache { return s.cache }

// Queue exposes the scheduling queue (tests and benchmarks).
func (s *Scheduler) Queue() *queue.PriorityQueue { return s.queue }

// Framework exposes the plugin framework (benchmarks).
func (s *Scheduler) Framework() *framework.Framework { return s.fw }
