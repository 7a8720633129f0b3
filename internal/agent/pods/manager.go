package pods

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Volumes prepares a pod's volumes on the node.
type Volumes interface {
	// Setup makes the pod's volumes exist (idempotent; refreshes
	// configMap, secret, downward API and projected contents).
	Setup(ctx context.Context, pod *corev1.Pod) error
	// Mounts lists a container's mounts; env expands subPathExpr.
	Mounts(pod *corev1.Pod, c *corev1.Container, env map[string]string) ([]*runtimeapi.Mount, error)
	// Teardown removes everything the pod's volumes left on the node.
	Teardown(ctx context.Context, uid types.UID) error
}

// EnvFunc resolves a container's environment, in order.
type EnvFunc func(ctx context.Context, pod *corev1.Pod, c *corev1.Container, podIP string) ([]*runtimeapi.KeyValue, error)

// ExpandFunc applies $(VAR) expansion to command and args.
type ExpandFunc func(command, args []string, env []*runtimeapi.KeyValue) ([]string, []string)

// Probes runs the pods' probes and reports their results.
type Probes interface {
	// Update tells the prober which containers of the pod run now.
	Update(pod *corev1.Pod, podIP string, running map[string]RunningContainer)
	Remove(uid types.UID)
	Ready(uid types.UID, container string) bool
	Started(uid types.UID, container string) bool
	// Failed reports (once) a container whose liveness or startup probe
	// failed for good.
	Failed(uid types.UID, container string) (id, message string, ok bool)
}

// RunningContainer identifies a running container instance.
type RunningContainer struct {
	ID        string
	StartedAt time.Time
}

// Config configures the pod manager.
type Config struct {
	NodeName string
	HostIP   string
	Client   kubernetes.Interface
	Runtime  runtimeapi.RuntimeServiceClient
	Images   runtimeapi.ImageServiceClient
	// Pods is an informer over the pods bound to this node.
	Pods     cache.SharedIndexInformer
	Volumes  Volumes
	Env      EnvFunc
	Expand   ExpandFunc
	Probes   Probes
	Recorder record.EventRecorder
	// PodsDir holds per-pod files (termination messages); LogDir the
	// containers' logs, in the kubelet's layout.
	PodsDir, LogDir string
	// ClusterDNS are the cluster DNS servers for ClusterFirst pods (none:
	// such pods use the host's resolvers), ClusterDomain the cluster's
	// domain, HostResolvConf the host's resolv.conf.
	ClusterDNS     []string
	ClusterDomain  string
	HostResolvConf []byte
	NodeMemory     int64
	Workers        int
	Logger         *slog.Logger
	Now            func() time.Time
}

// Manager runs the node's pods.
type Manager struct {
	cfg    Config
	lister corelisters.PodLister
	ctrl   *controller.Controller
	cache  *statusCache

	mu       sync.Mutex
	failures map[string]failure // "uid/container" -> start back-off
	stopping map[types.UID]bool // pods being stopped in the background
}

// failure holds a container back after a failed start (image pull,
// configuration or runtime error).
type failure struct {
	until   time.Time
	delay   time.Duration
	waiting Waiting
}

// New returns a pod manager.
func New(cfg Config) (*Manager, error) {
	if cfg.Client == nil || cfg.Runtime == nil || cfg.Images == nil || cfg.Pods == nil || cfg.Volumes == nil ||
		cfg.Env == nil || cfg.Expand == nil || cfg.Probes == nil || cfg.Recorder == nil {
		return nil, errors.New("pods: incomplete configuration")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	// Probe results name pods by UID; an index finds them without a scan.
	if err := cfg.Pods.AddIndexers(cache.Indexers{uidIndex: func(obj any) ([]string, error) {
		if p, ok := obj.(*corev1.Pod); ok {
			return []string{string(p.UID)}, nil
		}
		return nil, nil
	}}); err != nil {
		return nil, fmt.Errorf("pods: %w", err)
	}
	m := &Manager{cfg: cfg, lister: corelisters.NewPodLister(cfg.Pods.GetIndexer()), cache: newStatusCache(), failures: map[string]failure{}, stopping: map[types.UID]bool{}}
	ctrl, err := controller.New(controller.Config{Name: "pods", Reconciler: m, Workers: cfg.Workers, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := ctrl.Watch(cfg.Pods, nil); err != nil {
		return nil, err
	}
	m.ctrl = ctrl
	return m, nil
}

// Enqueue asks for a sync of the pod with key "namespace/name".
func (m *Manager) Enqueue(key string) { m.ctrl.Enqueue(key) }

// uidIndex indexes the pod informer by pod UID.
const uidIndex = "uid"

// EnqueueUID asks for a sync of the pod with uid, if it is known.
func (m *Manager) EnqueueUID(uid types.UID) {
	objs, _ := m.cfg.Pods.GetIndexer().ByIndex(uidIndex, string(uid))
	for _, obj := range objs {
		if p, ok := obj.(*corev1.Pod); ok {
			m.ctrl.Enqueue(p.Namespace + "/" + p.Name)
		}
	}
}

// Run syncs pods until ctx ends, watching the runtime for changes.
func (m *Manager) Run(ctx context.Context) error {
	go m.relist(ctx)
	go m.housekeeping(ctx)
	return m.ctrl.Run(ctx)
}

// Pods lists the pods bound to this node.
func (m *Manager) Pods() []*corev1.Pod {
	pods, _ := m.lister.List(everything)
	return pods
}

// Reconcile syncs one pod: it runs what should run, stops what should
// not, and writes the pod's status.
func (m *Manager) Reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := m.lister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		pod = nil
	} else if err != nil {
		return err
	}
	if err := m.removeOthers(ctx, ns, name, pod); err != nil {
		return err
	}
	if pod == nil {
		return nil
	}
	if pod.DeletionTimestamp != nil {
		return m.terminate(ctx, pod)
	}
	return m.sync(ctx, pod)
}

// removeOthers removes the sandboxes and containers of pods named ns/name
// that are not pod: deleted pods, or earlier pods of the same name.
func (m *Manager) removeOthers(ctx context.Context, ns, name string, pod *corev1.Pod) error {
	sbs, err := m.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{
		LabelSelector: map[string]string{labelPodNamespace: ns, labelPodName: name}}})
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	gone := map[types.UID]bool{}
	for _, sb := range sbs.Items {
		uid := types.UID(sb.Labels[labelPodUID])
		if pod != nil && uid == pod.UID {
			continue
		}
		gone[uid] = true
	}
	for uid := range gone {
		if err := m.removePod(ctx, uid); err != nil {
			return err
		}
	}
	return nil
}

// removePod removes everything of the pod with uid from the node.
func (m *Manager) removePod(ctx context.Context, uid types.UID) error {
	sel := map[string]string{labelPodUID: string(uid)}
	cs, err := m.cfg.Runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{LabelSelector: sel}})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var ids []string
	for _, c := range cs.Containers {
		if _, err := m.cfg.Runtime.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.Id}); err != nil {
			return fmt.Errorf("remove container %s: %w", c.Id, err)
		}
		ids = append(ids, c.Id)
	}
	sbs, err := m.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: sel}})
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	for _, sb := range sbs.Items {
		if _, err := m.cfg.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			return fmt.Errorf("stop sandbox %s: %w", sb.Id, err)
		}
		if _, err := m.cfg.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			return fmt.Errorf("remove sandbox %s: %w", sb.Id, err)
		}
		ids = append(ids, sb.Id)
	}
	m.cache.forget(ids)
	removePodCgroups(cgroupRoot, uid)
	m.cfg.Probes.Remove(uid)
	m.mu.Lock()
	for k := range m.failures {
		if len(k) > len(uid) && k[:len(uid)] == string(uid) {
			delete(m.failures, k)
		}
	}
	m.mu.Unlock()
	if err := m.cfg.Volumes.Teardown(ctx, uid); err != nil {
		return fmt.Errorf("tear down volumes of pod %s: %w", uid, err)
	}
	m.cfg.Logger.Debug("removed pod", "uid", uid)
	return nil
}
