package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/skiff-io/skiff/internal/agent/envvars"
)

// serviceSyncWait bounds how long building a container's environment waits
// for the first list of Services: right after the agent starts, pods are
// usually seen before Services, and a container started then would miss
// KUBERNETES_SERVICE_HOST for good.
const serviceSyncWait = 10 * time.Second

// errServicesNotSynced is the kubelet's error for a pod synced before the
// Services were read once; the pod manager retries the container later.
var errServicesNotSynced = errors.New("services have not yet been read at least once, cannot construct envvars")

// serviceEnvSource gives containers their Service link variables from an
// informer over the Services of all namespaces.
type serviceEnvSource struct {
	lister corelisters.ServiceLister
	synced cache.InformerSynced
}

// newServiceEnvSource registers the Services informer with its factory; the
// factory must be started afterwards.
func newServiceEnvSource(services coreinformers.ServiceInformer) serviceEnvSource {
	return serviceEnvSource{lister: services.Lister(), synced: services.Informer().HasSynced}
}

// forPod returns the Service link variables of pod's containers (see
// envvars.ServiceEnv): the master Service's always, those of the pod's
// namespace unless spec.enableServiceLinks is false.
func (s serviceEnvSource) forPod(ctx context.Context, pod *corev1.Pod) ([]envvars.EnvVar, error) {
	if !s.synced() {
		waitCtx, cancel := context.WithTimeout(ctx, serviceSyncWait)
		synced := cache.WaitForCacheSync(waitCtx.Done(), s.synced)
		cancel()
		if !synced {
			return nil, errServicesNotSynced
		}
	}
	links := envvars.ServiceLinksEnabled(pod)
	var services []*corev1.Service
	if links {
		var err error
		services, err = s.lister.Services(pod.Namespace).List(labels.Everything())
		if err != nil {
			return nil, fmt.Errorf("failed to list services when setting up env vars: %w", err)
		}
	}
	if !links || pod.Namespace != metav1.NamespaceDefault {
		master, err := s.lister.Services(metav1.NamespaceDefault).Get(envvars.MasterServiceName)
		switch {
		case err == nil:
			services = append(services, master)
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("failed to get the %s service when setting up env vars: %w", envvars.MasterServiceName, err)
		}
	}
	return envvars.ServiceEnv(services, pod.Namespace, links), nil
}
