package agent

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiff-io/skiff/internal/agent/envvars"
	"github.com/skiff-io/skiff/internal/agent/pods"
	"github.com/skiff-io/skiff/internal/agent/prober"
)

// apiGetter reads the objects pods refer to straight from the API server,
// so that a changed ConfigMap or Secret is seen on the next sync, and
// issues their projected ServiceAccount tokens (cached until due for
// refresh).
type apiGetter struct {
	client kubernetes.Interface
	tokens saTokenCache
}

func (g *apiGetter) ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	return g.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
}

func (g *apiGetter) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	return g.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
}

func (g *apiGetter) PersistentVolumeClaim(ctx context.Context, ns, name string) (*corev1.PersistentVolumeClaim, error) {
	return g.client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
}

func (g *apiGetter) PersistentVolume(ctx context.Context, name string) (*corev1.PersistentVolume, error) {
	return g.client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
}

// ServiceAccountToken returns a token for the pod's projected
// ServiceAccount token source, bound to the pod, from the TokenRequest
// API; the same token is returned until 80% of its life (or 24 hours)
// has passed.
func (g *apiGetter) ServiceAccountToken(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error) {
	return g.tokens.get(ctx, g.client, pod, src)
}

// ForgetPod drops the cached tokens of a pod that is gone.
func (g *apiGetter) ForgetPod(uid types.UID) { g.tokens.Forget(uid) }

func (a *Agent) nodeInfo() envvars.NodeInfo {
	f := a.currentFacts()
	return envvars.NodeInfo{Name: a.cfg.NodeName, Allocatable: a.allocatable(), HostIP: f.Addresses[0].Address}
}

// envFunc resolves a container's environment on top of its pod's Service
// link variables (serviceEnv).
func envFunc(g envvars.Getter, nodeInfo func() envvars.NodeInfo,
	serviceEnv func(context.Context, *corev1.Pod) ([]envvars.EnvVar, error)) pods.EnvFunc {
	return func(ctx context.Context, pod *corev1.Pod, c *corev1.Container, podIP string) ([]*runtimeapi.KeyValue, error) {
		services, err := serviceEnv(ctx, pod)
		if err != nil {
			return nil, err
		}
		vars, err := envvars.Env(ctx, g, pod, c, nodeInfo(), podIP, services)
		if err != nil {
			return nil, err
		}
		out := make([]*runtimeapi.KeyValue, 0, len(vars))
		for _, v := range vars {
			out = append(out, &runtimeapi.KeyValue{Key: v.Name, Value: []byte(v.Value)})
		}
		return out, nil
	}
}

func expandFunc(command, args []string, env []*runtimeapi.KeyValue) ([]string, []string) {
	vars := make([]envvars.EnvVar, 0, len(env))
	for _, kv := range env {
		vars = append(vars, envvars.EnvVar{Name: kv.Key, Value: string(kv.Value)})
	}
	return envvars.Expand(command, args, vars)
}

// criExec runs exec probes through CRI ExecSync.
type criExec struct {
	rt runtimeapi.RuntimeServiceClient
}

func (e criExec) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) ([]byte, []byte, int32, error) {
	secs := int64(timeout / time.Second)
	if secs < 1 {
		secs = 1
	}
	resp, err := e.rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: secs})
	if err != nil {
		return nil, nil, 0, err
	}
	return resp.Stdout, resp.Stderr, resp.ExitCode, nil
}

// probeAdapter gives the pod manager the prober's results. Remove is
// called once a pod is gone for good, so it also drops the pod's cached
// service account tokens.
type probeAdapter struct {
	m      *prober.Manager
	tokens *apiGetter
}

func (p probeAdapter) Update(pod *corev1.Pod, podIP string, running map[string]pods.RunningContainer) {
	r := make(map[string]prober.Running, len(running))
	for name, c := range running {
		r[name] = prober.Running{ID: c.ID, StartedAt: c.StartedAt}
	}
	p.m.Update(pod, podIP, r)
}
func (p probeAdapter) Remove(uid types.UID) {
	p.m.Remove(uid)
	p.tokens.ForgetPod(uid)
}
func (p probeAdapter) Ready(uid types.UID, container string) bool { return p.m.Ready(uid, container) }
func (p probeAdapter) Started(uid types.UID, container string) bool {
	return p.m.Started(uid, container)
}
func (p probeAdapter) Failed(uid types.UID, container string) (string, string, bool) {
	return p.m.Failed(uid, container)
}
