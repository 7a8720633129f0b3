// Package simulator runs hollow nodes: it registers Node objects, keeps
// their Leases and status fresh, and plays the node agent for the pods
// bound to them (Running and Ready with an IP, Job pods completing,
// terminating pods removed), all in one process and without containers.
// It is a client of the API server like any kubelet, so it works against
// any Kubernetes-compatible control plane.
//
// Work is funnelled through one rate-limited work queue served by a few
// workers: one key per node ("node/NAME", status), per node lease
// ("lease/NAME") and per pod ("pod/NS/NAME"). Periodic work is scheduled
// by requeueing keys with a delay, so a thousand nodes cost a thousand
// entries in a heap, not a thousand goroutines.
package simulator

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Defaults of Config.
const (
	DefaultNamePrefix     = "sim-node-"
	DefaultKubeletVersion = "v1.37.2-skiff"
	DefaultLeaseDuration  = 40 * time.Second
	DefaultRenewInterval  = 10 * time.Second
	DefaultStatusInterval = 40 * time.Second
	DefaultJobDuration    = 2 * time.Second
	DefaultWorkers        = 64
)

// Annotations a pod may carry to script its simulated run.
const (
	// AnnotationExitCode makes the pod's containers exit with this code
	// once AnnotationRunDuration (or Config.JobDuration) has passed, as if
	// restartPolicy were Never: 0 means Succeeded, anything else Failed.
	// Pods owned by a Job exit with 0 unless told otherwise.
	AnnotationExitCode = "simulator.skiff.io/exit-code"
	// AnnotationRunDuration (a Go duration such as "30s") is how long the
	// pod's containers run before exiting.
	AnnotationRunDuration = "simulator.skiff.io/run-duration"
	// LabelSimulated marks the nodes the simulator registers.
	LabelSimulated = "skiff.io/simulated"
)

// Config configures a Simulator.
type Config struct {
	// Client talks to the API server; if nil one is built from RESTConfig
	// (unthrottled unless RESTConfig sets a QPS). Throttle the client
	// generously: a thousand nodes need about 150 requests/s at rest.
	Client     kubernetes.Interface
	RESTConfig *rest.Config
	// Nodes is the number of nodes, named NamePrefix + index (0-based).
	Nodes      int
	NamePrefix string
	// Capacity of each node (defaults 32 CPU, 256Gi, 110 pods); allocatable
	// equals capacity.
	CPU, Memory, EphemeralStorage resource.Quantity
	Pods                          int
	// Labels and Taints are added to every node at registration.
	Labels map[string]string
	Taints []corev1.Taint
	// Zones, if set, spreads the nodes round-robin over these values of
	// topology.kubernetes.io/zone.
	Zones []string
	// KubeletVersion is reported in status.nodeInfo.
	KubeletVersion string
	// LeaseDuration is the nodes' leaseDurationSeconds (default 40s);
	// RenewInterval is how often leases are renewed (default 10s).
	LeaseDuration, RenewInterval time.Duration
	// StatusInterval is how often node conditions are re-posted when
	// nothing changed (default 40s).
	StatusInterval time.Duration
	// JobDuration is how long the containers of Job pods run before they
	// complete (default 2s).
	JobDuration time.Duration
	// Workers is the number of concurrent API writers (default 64: writes
	// are bound by the API server's storage latency, not CPU).
	Workers int
	Logger  *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Simulator is a set of hollow nodes.
type Simulator struct {
	cfg     Config
	client  kubernetes.Interface
	factory informers.SharedInformerFactory
	nodes   corelisters.NodeLister
	pods    corelisters.PodLister
	podIdx  cache.Indexer
	ctrl    *controller.Controller
	byName  map[string]*simNode
	names   []string
	podNode sync.Map // pod key -> *simNode holding its addresses
	started atomic.Bool
}

// simNode is the simulator's state for one node.
type simNode struct {
	name    string
	index   int
	stopped atomic.Bool // heartbeat stopped: the node agent is "dead"
	mu      sync.Mutex
	created bool // registered (or found) by us
	gone    bool // deleted by someone else: we no longer serve it
	// haveLease: the lease is known to exist, so renewals are patches.
	haveLease bool
	ips       ipPool
}

const nodeNameIndex = "spec.nodeName"

// New validates cfg and prepares the simulator; it does no I/O.
func New(cfg Config) (*Simulator, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	client := cfg.Client
	if client == nil {
		if cfg.RESTConfig == nil {
			return nil, errors.New("simulator: Client or RESTConfig is required")
		}
		rc := rest.CopyConfig(cfg.RESTConfig)
		if rc.QPS == 0 && rc.RateLimiter == nil {
			// client-go's default of 5 requests/s cannot serve many nodes.
			rc.QPS, rc.Burst = -1, 0
		}
		var err error
		if client, err = kubernetes.NewForConfig(rc); err != nil {
			return nil, fmt.Errorf("simulator: %w", err)
		}
	}
	s := &Simulator{cfg: cfg, client: client, byName: make(map[string]*simNode, cfg.Nodes)}
	for i := 0; i < cfg.Nodes; i++ {
		name := fmt.Sprintf("%s%d", cfg.NamePrefix, i)
		s.byName[name] = &simNode{name: name, index: i}
		s.names = append(s.names, name)
	}
	s.factory = informers.NewSharedInformerFactory(client, 0)
	nodeInf := s.factory.Core().V1().Nodes()
	// Only bound pods matter; one informer serves all our nodes.
	podInf := s.factory.InformerFor(&corev1.Pod{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return coreinformers.NewFilteredPodInformer(c, metav1.NamespaceAll, resync,
			cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, nodeNameIndex: podNodeName},
			func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermNotEqualSelector("spec.nodeName", "").String()
			})
	})
	s.nodes = nodeInf.Lister()
	s.pods = corelisters.NewPodLister(podInf.GetIndexer())
	s.podIdx = podInf.GetIndexer()
	ctrl, err := controller.New(controller.Config{Name: "simulator", Reconciler: s, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := ctrl.Watch(nodeInf.Informer(), s.nodeKey); err != nil {
		return nil, err
	}
	if err := ctrl.Watch(podInf, s.podKey); err != nil {
		return nil, err
	}
	s.ctrl = ctrl
	return s, nil
}

func (cfg *Config) defaults() error {
	if cfg.Nodes < 0 {
		return fmt.Errorf("simulator: Nodes must not be negative, got %d", cfg.Nodes)
	}
	if cfg.NamePrefix == "" {
		cfg.NamePrefix = DefaultNamePrefix
	}
	if cfg.CPU.IsZero() {
		cfg.CPU = resource.MustParse("32")
	}
	if cfg.Memory.IsZero() {
		cfg.Memory = resource.MustParse("256Gi")
	}
	if cfg.EphemeralStorage.IsZero() {
		cfg.EphemeralStorage = resource.MustParse("1Ti")
	}
	if cfg.Pods == 0 {
		cfg.Pods = 110
	}
	if cfg.KubeletVersion == "" {
		cfg.KubeletVersion = DefaultKubeletVersion
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.RenewInterval == 0 {
		cfg.RenewInterval = DefaultRenewInterval
	}
	if cfg.StatusInterval == 0 {
		cfg.StatusInterval = DefaultStatusInterval
	}
	if cfg.JobDuration == 0 {
		cfg.JobDuration = DefaultJobDuration
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, t := range cfg.Taints {
		if t.Key == "" || t.Effect == "" {
			return fmt.Errorf("simulator: taint %q needs a key and an effect", t.ToString())
		}
	}
	return nil
}

// NodeNames returns the names of the simulated nodes.
func (s *Simulator) NodeNames() []string { return append([]string(nil), s.names...) }

// Run registers the nodes and serves them until ctx ends.
func (s *Simulator) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("simulator: Run called twice")
	}
	for _, name := range s.names {
		s.ctrl.Enqueue(nodeKeyPrefix + name)
	}
	s.factory.Start(ctx.Done())
	defer s.factory.Shutdown()
	s.cfg.Logger.Info("simulating nodes", "count", len(s.names), "prefix", s.cfg.NamePrefix)
	return s.ctrl.Run(ctx)
}

// StopHeartbeat makes a node's agent go silent, as if its machine died or
// were cut off: no lease renewals, no status, no pod updates. It reports
// whether name is one of the simulated nodes.
func (s *Simulator) StopHeartbeat(name string) bool {
	n, ok := s.byName[name]
	if ok {
		n.stopped.Store(true)
	}
	return ok
}

// ResumeHeartbeat brings a stopped node back: the lease, the status and
// its pods are reconciled again at once.
func (s *Simulator) ResumeHeartbeat(name string) bool {
	n, ok := s.byName[name]
	if !ok || !n.stopped.CompareAndSwap(true, false) {
		return ok
	}
	s.ctrl.Enqueue(nodeKeyPrefix + name)
	s.ctrl.Enqueue(leaseKeyPrefix + name)
	objs, _ := s.podIdx.ByIndex(nodeNameIndex, name)
	for _, o := range objs {
		if k, ok := s.podKey(o); ok {
			s.ctrl.Enqueue(k)
		}
	}
	return true
}

// Key prefixes of the work queue.
const (
	nodeKeyPrefix  = "node/"
	leaseKeyPrefix = "lease/"
	podKeyPrefix   = "pod/"
)

// Reconcile implements controller.Reconciler, dispatching on the key's
// kind.
func (s *Simulator) Reconcile(ctx context.Context, key string) error {
	switch {
	case strings.HasPrefix(key, nodeKeyPrefix):
		return s.syncNode(ctx, strings.TrimPrefix(key, nodeKeyPrefix))
	case strings.HasPrefix(key, leaseKeyPrefix):
		return s.syncLease(ctx, strings.TrimPrefix(key, leaseKeyPrefix))
	case strings.HasPrefix(key, podKeyPrefix):
		return s.syncPod(ctx, strings.TrimPrefix(key, podKeyPrefix))
	}
	return nil
}

func (s *Simulator) nodeKey(obj interface{}) (string, bool) {
	key, ok := controller.ObjectKey(obj)
	if _, ours := s.byName[key]; !ok || !ours {
		return "", false
	}
	return nodeKeyPrefix + key, true
}

func (s *Simulator) podKey(obj interface{}) (string, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return "", false
	}
	if _, ours := s.byName[pod.Spec.NodeName]; !ours {
		return "", false
	}
	return podKeyPrefix + pod.Namespace + "/" + pod.Name, true
}

func podNodeName(obj interface{}) ([]string, error) {
	if pod, ok := obj.(*corev1.Pod); ok && pod.Spec.NodeName != "" {
		return []string{pod.Spec.NodeName}, nil
	}
	return nil, nil
}

// nodeIP is the InternalIP of the i-th node of a simulator whose nodes are
// named prefix+i: a block of 4096 addresses in 172.16.0.0/12 picked by the
// prefix, from its .2 on, so that simulators with different prefixes (node
// pools) rarely share addresses.
func nodeIP(prefix string, i int) netip.Addr {
	h := fnv.New32a()
	_, _ = h.Write([]byte(prefix))
	block := h.Sum32() % 256
	v := uint32(0xAC100000) + block*4096 + uint32(i%4094) + 2
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// fallbackPodCIDR is the pod range of the i-th node while it has no
// spec.podCIDR: the i-th /24 of 100.64.0.0/10.
func fallbackPodCIDR(i int) netip.Prefix {
	v := uint32(0x64400000) + uint32(i%16384)<<8
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), 24)
}
