// Package volumes prepares a pod's volumes on the node and turns a
// container's volumeMounts into CRI mounts. Volumes live under
// <PodsDir>/<pod uid>/volumes/<plugin>/<volume name>, laid out as the kubelet
// lays them out, so that a pod's files survive agent restarts and can be
// found again (PodDirs) and removed (Teardown).
//
// Supported sources: emptyDir (disk, or tmpfs for medium Memory), hostPath,
// configMap, secret, downwardAPI, projected (configMap, secret, downwardAPI,
// serviceAccountToken), persistentVolumeClaim and generic ephemeral volumes
// bound to a PersistentVolume with a hostPath or local source. configMap,
// secret, downwardAPI and projected contents are written with the kubelet's
// atomic-writer layout (a ..<timestamp> directory, a ..data symlink to it and
// one symlink per top-level entry) so updates made by a later Setup appear
// atomically inside running containers. Secret and projected volumes are
// backed by tmpfs, as in Kubernetes.
package volumes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Getter reads the objects volumes refer to (backed by informers or a
// client). A missing object is reported with an error for which
// apierrors.IsNotFound is true.
type Getter interface {
	// ConfigMap returns the named configMap of namespace.
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	// Secret returns the named secret of namespace.
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	// PersistentVolumeClaim returns the named claim of namespace.
	PersistentVolumeClaim(ctx context.Context, namespace, name string) (*corev1.PersistentVolumeClaim, error)
	// PersistentVolume returns the named volume.
	PersistentVolume(ctx context.Context, name string) (*corev1.PersistentVolume, error)
	// ServiceAccountToken returns a token for the pod's projected
	// serviceAccountToken source; it may return an error saying it is not
	// supported.
	ServiceAccountToken(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error)
}

// Config configures a Manager.
type Config struct {
	// PodsDir is the directory holding one directory per pod
	// (<data-dir>/agent/pods). It is created if missing.
	PodsDir string
	// Getter reads configMaps, secrets, claims, volumes and tokens.
	Getter Getter
	// Logger receives the manager's logs; nil means slog.Default().
	Logger *slog.Logger
	// NodeName is the node this agent runs as (for logs).
	NodeName string
	// NodeAllocatable, if set, returns the node's allocatable resources: the
	// value of unset container limits in downwardAPI resourceFieldRef files
	// and the upper bound of memory-backed volume sizes.
	NodeAllocatable func() corev1.ResourceList
}

// Manager sets up, describes and tears down pod volumes. It is safe for
// concurrent use by different pods; calls for the same pod must not overlap.
type Manager struct {
	podsDir     string
	getter      Getter
	log         *slog.Logger
	allocatable func() corev1.ResourceList

	mu sync.Mutex
	// claims holds, per pod, the host paths that Setup resolved for its
	// persistentVolumeClaim and ephemeral volumes.
	claims map[types.UID]map[string]claimPath
}

// claimPath is where a claim-backed volume lives on the host.
type claimPath struct {
	path     string
	readOnly bool
	// ownedByPod is true for local volumes, whose ownership fsGroup
	// handling manages (hostPath volumes are left alone).
	ownedByPod bool
}

// New validates cfg, creates PodsDir if needed and returns a Manager.
func New(cfg Config) (*Manager, error) {
	if cfg.PodsDir == "" {
		return nil, errors.New("volumes: PodsDir is required")
	}
	if cfg.Getter == nil {
		return nil, errors.New("volumes: Getter is required")
	}
	if err := os.MkdirAll(cfg.PodsDir, 0o750); err != nil {
		return nil, fmt.Errorf("volumes: create pods directory: %w", err)
	}
	abs, err := filepath.Abs(cfg.PodsDir)
	if err != nil {
		return nil, fmt.Errorf("volumes: pods directory: %w", err)
	}
	// Mount points are reported with symlinks resolved; so are our paths.
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("volumes: pods directory: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	allocatable := cfg.NodeAllocatable
	if allocatable == nil {
		allocatable = func() corev1.ResourceList { return nil }
	}
	return &Manager{
		podsDir:     real,
		getter:      cfg.Getter,
		log:         log.With("component", "volumes", "node", cfg.NodeName),
		allocatable: allocatable,
		claims:      map[types.UID]map[string]claimPath{},
	}, nil
}

// Plugin directory names, as the kubelet names them.
const (
	pluginEmptyDir    = "kubernetes.io~empty-dir"
	pluginConfigMap   = "kubernetes.io~configmap"
	pluginSecret      = "kubernetes.io~secret"
	pluginDownwardAPI = "kubernetes.io~downward-api"
	pluginProjected   = "kubernetes.io~projected"
)

// podDir is <PodsDir>/<uid>.
func (m *Manager) podDir(uid types.UID) string {
	return filepath.Join(m.podsDir, string(uid))
}

// volumeDir is where a pod-local volume's files live.
func (m *Manager) volumeDir(uid types.UID, plugin, name string) string {
	return filepath.Join(m.podDir(uid), "volumes", plugin, name)
}

// subpathTarget is where a subPath of a volume is bind-mounted for one
// volumeMount (by index) of one container.
func (m *Manager) subpathTarget(uid types.UID, volume, container string, index int) string {
	return filepath.Join(m.podDir(uid), "volume-subpaths", volume, container, fmt.Sprint(index))
}

// checkPathElement rejects names that would not stay one path element.
func checkPathElement(what, name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("invalid %s %q", what, name)
	}
	return nil
}

// PodDirs lists the pod UIDs that have a directory under PodsDir, for
// cleaning up after pods the agent no longer knows.
func (m *Manager) PodDirs() ([]types.UID, error) {
	entries, err := os.ReadDir(m.podsDir)
	if err != nil {
		return nil, fmt.Errorf("list pod directories: %w", err)
	}
	var uids []types.UID
	for _, e := range entries {
		if e.IsDir() {
			uids = append(uids, types.UID(e.Name()))
		}
	}
	return uids, nil
}

func (m *Manager) setClaim(uid types.UID, volume string, p claimPath) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.claims[uid] == nil {
		m.claims[uid] = map[string]claimPath{}
	}
	m.claims[uid][volume] = p
}

func (m *Manager) claim(uid types.UID, volume string) (claimPath, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.claims[uid][volume]
	return p, ok
}

func (m *Manager) forgetPod(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.claims, uid)
}
