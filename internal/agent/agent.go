// Package agent is Skiff's node agent (the kubelet's role): it registers
// the Node, heartbeats it, sets up pod networking on the node's pod CIDR,
// runs the pods bound to the node through CRI on containerd, and serves
// logs, exec, attach, port-forward and stats to the API server.
package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiff-io/skiff/internal/agent/agentserver"
	"github.com/skiff-io/skiff/internal/agent/containerd"
	"github.com/skiff-io/skiff/internal/agent/node"
	"github.com/skiff-io/skiff/internal/agent/overlay"
	"github.com/skiff-io/skiff/internal/agent/pods"
	"github.com/skiff-io/skiff/internal/agent/prober"
	"github.com/skiff-io/skiff/internal/agent/volumes"
	"github.com/skiff-io/skiff/internal/version"
)

// SandboxImage is Skiff's own pause image, built from images/pause.
const SandboxImage = "skiff.local/pause:1.0"

// DefaultPort is the agent's HTTPS port, the kubelet's.
const DefaultPort = 10250

// Config configures the agent.
type Config struct {
	// DataDir is the server's data directory; the agent keeps its state
	// in DataDir/agent.
	DataDir  string
	NodeName string
	// NodeIP is the node's InternalIP; detected when empty.
	NodeIP string
	// Port is the HTTPS port of the agent's API (0: DefaultPort).
	Port int
	// RuntimeEndpoint is an existing CRI runtime to use; empty starts
	// containerd under DataDir/agent/containerd.
	RuntimeEndpoint string
	// ClusterCIDR and ServiceCIDR get "unreachable" routes so that cluster
	// traffic never leaves the machine.
	ClusterCIDR, ServiceCIDR string
	// OverlayMode is how the node reaches the other nodes' pod CIDRs
	// (--flannel-backend); empty means overlay.ModeVXLAN.
	OverlayMode overlay.Mode
	// ClusterDNS and ClusterDomain configure ClusterFirst pods' resolvers.
	ClusterDNS    []string
	ClusterDomain string
	NodeLabels    map[string]string
	NodeTaints    []corev1.Taint
	// RestConfig reaches the API server with the node's credentials.
	RestConfig *rest.Config
	// CAPEM verifies clients of the agent's API; ServingCertPEM and
	// ServingKeyPEM are its TLS identity.
	CAPEM, ServingCertPEM, ServingKeyPEM []byte
	// ServingCertificate, when set, replaces ServingCertPEM and
	// ServingKeyPEM: it is asked for the current serving certificate at
	// every TLS handshake, so a renewed certificate needs no restart.
	ServingCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	Logger             *slog.Logger
}

// Agent is a running node agent.
type Agent struct {
	cfg       Config
	log       *slog.Logger
	client    kubernetes.Interface
	statusNow chan struct{}

	mu       sync.Mutex
	notReady string
	facts    node.Facts
}

// Dir is the agent's state directory under dataDir.
func Dir(dataDir string) string { return filepath.Join(dataDir, "agent") }

// New checks cfg.
func New(cfg Config) (*Agent, error) {
	if cfg.DataDir == "" || cfg.NodeName == "" || cfg.RestConfig == nil {
		return nil, errors.New("agent: DataDir, NodeName and RestConfig are required")
	}
	if strings.HasPrefix(cfg.RuntimeEndpoint, "/") {
		cfg.RuntimeEndpoint = "unix://" + cfg.RuntimeEndpoint
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.ClusterDomain == "" {
		cfg.ClusterDomain = "cluster.local"
	}
	mode, err := overlay.ParseMode(string(cfg.OverlayMode))
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	cfg.OverlayMode = mode
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client, err := kubernetes.NewForConfig(cfg.RestConfig)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	return &Agent{cfg: cfg, log: cfg.Logger, client: client, statusNow: make(chan struct{}, 1),
		notReady: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"}, nil
}

// Run runs the agent until ctx ends. Containers keep running when it
// returns: a restarted agent finds them through the runtime.
func (a *Agent) Run(ctx context.Context) error {
	dir := Dir(a.cfg.DataDir)
	for _, d := range []string{dir, filepath.Join(dir, "pods"), filepath.Join(dir, "logs"), filepath.Join(dir, "images")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("agent: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, 8)
	goRun := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}

	endpoint := a.cfg.RuntimeEndpoint
	ctrd := (*containerd.Daemon)(nil)
	if endpoint == "" {
		var err error
		ctrd, err = containerd.New(containerd.Config{Dir: filepath.Join(dir, "containerd"), ImagesDir: filepath.Join(dir, "images"),
			SandboxImage: SandboxImage, Logger: a.log.With("component", "containerd")})
		if err != nil {
			return err
		}
		goRun("containerd", ctrd.Run)
		select {
		case <-ctrd.Ready():
		case err := <-errs:
			return err
		case <-ctx.Done():
			return nil
		}
		endpoint = ctrd.Endpoint()
	}
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("agent: CRI endpoint %s: %w", endpoint, err)
	}
	defer conn.Close()
	rt, img := runtimeapi.NewRuntimeServiceClient(conn), runtimeapi.NewImageServiceClient(conn)
	ver, err := runtimeVersion(ctx, rt)
	if err != nil {
		return err
	}

	facts, err := node.ReadMachine(node.MachineInput{DataDir: a.cfg.DataDir, NodeIP: a.cfg.NodeIP, Hostname: a.cfg.NodeName,
		Port: int32(a.cfg.Port), RuntimeVersion: ver, AgentVersion: version.Kubernetes})
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.facts = facts
	a.mu.Unlock()
	hostIP := facts.Addresses[0].Address
	registered, err := a.register(ctx, a.currentFacts())
	if err != nil {
		return nil // ctx ended
	}
	if registered.Spec.PodCIDR != "" {
		// A restart: the pod network is set up before the first status
		// post, so that the node (and with it every pod) does not turn
		// NotReady for a moment.
		if err := a.setupNetwork(ctx, ctrd); err != nil {
			return err
		}
	} else {
		goRun("network", func(ctx context.Context) error { return a.setupNetwork(ctx, ctrd) })
	}
	goRun("overlay", a.runOverlay)
	wg.Add(1)
	go func() { defer wg.Done(); a.heartbeat(ctx, a.currentFacts) }()

	factory := informers.NewSharedInformerFactoryWithOptions(a.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", a.cfg.NodeName).String()
	}))
	podInformer := factory.Core().V1().Pods().Informer()
	// Service link variables need Services of every namespace (the master
	// Service is in default), so they get their own unfiltered factory.
	serviceFactory := informers.NewSharedInformerFactory(a.client, 0)
	serviceEnv := newServiceEnvSource(serviceFactory.Core().V1().Services())
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: a.client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: a.cfg.NodeName})

	getter := &apiGetter{client: a.client}
	vols, err := volumes.New(volumes.Config{PodsDir: filepath.Join(dir, "pods"), Getter: getter, Logger: a.log, NodeName: a.cfg.NodeName,
		NodeAllocatable: a.allocatable})
	if err != nil {
		return err
	}
	var podMgr *pods.Manager
	probes := prober.New(prober.Config{Exec: criExec{rt}, Logger: a.log, Recorder: recorder,
		OnChange: func(uid types.UID) {
			if podMgr != nil {
				podMgr.EnqueueUID(uid)
			}
		}})
	podMgr, err = pods.New(pods.Config{
		NodeName: a.cfg.NodeName, HostIP: hostIP, Client: a.client, Runtime: rt, Images: img, Pods: podInformer,
		Volumes: vols, Env: envFunc(getter, a.nodeInfo, serviceEnv.forPod), Expand: expandFunc, Probes: probeAdapter{m: probes, tokens: getter},
		Recorder: recorder, PodsDir: filepath.Join(dir, "pods"), LogDir: filepath.Join(dir, "logs"),
		ClusterDNS: a.cfg.ClusterDNS, ClusterDomain: a.cfg.ClusterDomain, HostResolvConf: hostResolvConf(),
		NodeMemory: facts.Memory.Value(), Logger: a.log.With("component", "pods"),
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	serviceFactory.Start(ctx.Done())
	goRun("pods", podMgr.Run)
	goRun("api", func(ctx context.Context) error { return a.serve(ctx, rt, podMgr) })
	wg.Add(1)
	go func() { defer wg.Done(); a.collectImages(ctx, rt, img, a.cfg.DataDir) }()

	select {
	case err := <-errs:
		cancel()
		return err
	case <-ctx.Done():
		return nil
	}
}

func (a *Agent) currentFacts() node.Facts {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.facts
	f.NotReady = a.notReady
	return f
}

func (a *Agent) allocatable() corev1.ResourceList {
	f := a.currentFacts()
	return corev1.ResourceList{corev1.ResourceCPU: f.CPU, corev1.ResourceMemory: f.Memory, corev1.ResourceEphemeralStorage: f.EphemeralStorage}
}

// setNotReady records why the node is not ready ("" when it is) and
// posts the status now.
func (a *Agent) setNotReady(reason string) {
	a.mu.Lock()
	a.notReady = reason
	a.mu.Unlock()
	select {
	case a.statusNow <- struct{}{}:
	default:
	}
}

// setupNetwork waits for the node's pod CIDR, then installs the pod
// network configuration and the unreachable routes; the node becomes
// Ready once it is done.
func (a *Agent) setupNetwork(ctx context.Context, ctrd *containerd.Daemon) error {
	cidr, err := a.waitPodCIDR(ctx)
	if err != nil {
		return nil
	}
	if err := ensureUnreachable(a.cfg.ClusterCIDR, a.cfg.ServiceCIDR); err != nil {
		a.log.Warn("installing unreachable routes", "err", err)
	}
	if err := ensureServiceRouting(a.cfg.ServiceCIDR); err != nil {
		a.log.Warn("routing the host's traffic to ClusterIPs", "err", err)
	}
	if ctrd != nil {
		dir := Dir(a.cfg.DataDir)
		if err := writeCNIConfig(ctrd.Layout().CNIConfDir(), cidr, filepath.Join(dir, "cni-ipam"), a.podMTU()); err != nil {
			return fmt.Errorf("pod network: %w", err)
		}
	}
	a.log.Info("pod network configured", "podCIDR", cidr, "overlay", a.cfg.OverlayMode)
	a.setNotReady("")
	return nil
}

func runtimeVersion(ctx context.Context, rt runtimeapi.RuntimeServiceClient) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := rt.Version(ctx, &runtimeapi.VersionRequest{})
		if err == nil {
			return v.RuntimeName + "://" + v.RuntimeVersion, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("agent: container runtime not answering: %w", err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// hostResolvConf is the host's resolv.conf, for pods with dnsPolicy
// Default and the search domains of ClusterFirst pods.
func hostResolvConf() []byte {
	b, _ := os.ReadFile("/etc/resolv.conf")
	return b
}

// serve runs the agent's HTTPS API.
func (a *Agent) serve(ctx context.Context, rt runtimeapi.RuntimeServiceClient, podMgr *pods.Manager) error {
	tlsCfg, err := a.servingTLSConfig()
	if err != nil {
		return err
	}
	st := &statsSource{node: a.cfg.NodeName, rt: rt}
	h := agentserver.New(agentserver.Config{
		Logs: func(ctx context.Context, req agentserver.LogRequest, w io.Writer) error {
			return podMgr.Logs(ctx, req.Namespace, req.Pod, req.Container, &req.Opts, w)
		},
		Resolve:         podMgr.Resolve,
		Runtime:         rt,
		Pods:            podMgr.Pods,
		StatsSummary:    st.summaryHandler(),
		MetricsResource: st.metricsHandler(),
		Logger:          a.log,
	})
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(a.cfg.Port)))
	if err != nil {
		return fmt.Errorf("agent API: %w", err)
	}
	srv := &http.Server{Handler: h, TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	err = srv.Serve(tls.NewListener(ln, tlsCfg))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// apiError maps the pod manager's errors to the agent API's.
func apiError(err error) error {
	switch {
	case errors.Is(err, pods.ErrNotFound):
		return fmt.Errorf("%w: %v", agentserver.ErrNotFound, err)
	case errors.Is(err, pods.ErrBadRequest):
		return fmt.Errorf("%w: %v", agentserver.ErrBadRequest, err)
	}
	return err
}
