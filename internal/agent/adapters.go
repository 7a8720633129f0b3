package agent

import (
	"context"
	"errors"
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
// so that a changed ConfigMap or Secret is seen on the next sync.
type apiGetter struct{ client kubernetes.Interface }

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

// errNoTokens: the API server does not issue ServiceAccount tokens yet.
var errNoTokens = errors.New("service account tokens are not supported yet")

func (g *apiGetter) ServiceAccountToken(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error) {
	return "", errNoTokens
}

func (a *Agent) nodeInfo() envvars.NodeInfo {
	f := a.currentFacts()
	return envvars.NodeInfo{Name: a.cfg.NodeName, Allocatable: a.allocatable(), HostIP: f.Addresses[0].Address}
}

func envFunc(g envvars.Getter, nodeInfo func() envvars.NodeInfo) pods.EnvFunc {
	return func(ctx context.Context, pod *corev1.Pod, c *corev1.Container, podIP string) ([]*runtimeapi.KeyValue, error) {
		vars, err := envvars.Env(ctx, g, pod, c, nodeInfo(), podIP)
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

// probeAdapter gives the pod manager the prober's results.
type probeAdapter struct{ m *prober.Manager }

func (p probeAdapter) Update(pod *corev1.Pod, podIP string, running map[string]pods.RunningContainer) {
	r := make(map[string]prober.Running, len(running))
	for name, c := range running {
		r[name] = prober.Running{ID: c.ID, StartedAt: c.StartedAt}
	}
	p.m.Update(pod, podIP, r)
}
func (p probeAdapter) Remove(uid types.UID)                       { p.m.Remove(uid) }
func (p probeAdapter) Ready(uid types.UID, container string) bool { return p.m.Ready(uid, container) }
func (p probeAdapter) Started(uid types.UID, container string) bool {
	return p.m.Started(uid, container)
}
func (p probeAdapter) Failed(uid types.UID, container string) (string, string, bool) {
	return p.m.Failed(uid, container)
}
