package deployment

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/controller/replicaset"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// env is a control plane running the ReplicaSet and Deployment
// controllers and a fake kubelet.
type env struct {
	srv    *testserver.Server
	client kubernetes.Interface
}

func startEnv(t *testing.T) *env {
	t.Helper()
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	client, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(client, 0)
	rs, err := replicaset.New(replicaset.Config{Client: client, Informers: factory})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := New(Config{Client: client, Informers: factory})
	if err != nil {
		t.Fatal(err)
	}
	kl := newFakeKubelet(client, factory)
	factory.Start(ctx.Done())
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); _ = rs.Run(ctx) }()
	go func() { defer wg.Done(); _ = dc.Run(ctx) }()
	go func() { defer wg.Done(); kl.run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait(); factory.Shutdown() })
	return &env{srv: s, client: client}
}

// neverReadyImage is an image the fake kubelet never makes ready.
const neverReadyImage = "registry.example/never-ready:1"

// fakeKubelet marks every new pod Running and Ready with a pod IP, except
// pods whose first container runs neverReadyImage.
type fakeKubelet struct {
	client kubernetes.Interface
	queue  chan string
	lister func(ns, name string) (*corev1.Pod, error)
	ip     atomic.Int32
}

func newFakeKubelet(client kubernetes.Interface, f informers.SharedInformerFactory) *fakeKubelet {
	pods := f.Core().V1().Pods()
	k := &fakeKubelet{client: client, queue: make(chan string, 10000),
		lister: func(ns, name string) (*corev1.Pod, error) { return pods.Lister().Pods(ns).Get(name) }}
	push := func(obj interface{}) {
		if p, ok := obj.(*corev1.Pod); ok {
			k.queue <- p.Namespace + "/" + p.Name
		}
	}
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: push, UpdateFunc: func(_, o interface{}) { push(o) }})
	return k
}

func (k *fakeKubelet) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case key := <-k.queue:
			ns, name, _ := cache.SplitMetaNamespaceKey(key)
			p, err := k.lister(ns, name)
			if err != nil || p.DeletionTimestamp != nil || replicaset.IsPodReady(p) ||
				(len(p.Spec.Containers) > 0 && p.Spec.Containers[0].Image == neverReadyImage) {
				continue
			}
			p = p.DeepCopy()
			now := metav1.Now()
			ip := fmt.Sprintf("10.42.%d.%d", k.ip.Add(1)/250, k.ip.Load()%250+1)
			p.Status.Phase = corev1.PodRunning
			p.Status.PodIP, p.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
			p.Status.Conditions = []corev1.PodCondition{
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			}
			// A conflict means a newer version is coming through the informer.
			_, _ = k.client.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		}
	}
}

// podMonitor follows the pods of a namespace through a watch, which sees
// every change in order, and checks invariants after each event.
type podMonitor struct {
	mu         sync.Mutex
	pods       map[string]*corev1.Pod
	check      func(pods map[string]*corev1.Pod) error
	violations []string
	maxPods    int
}

func monitorPods(t *testing.T, client kubernetes.Interface, ns string) *podMonitor {
	t.Helper()
	w, err := client.CoreV1().Pods(ns).Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := &podMonitor{pods: map[string]*corev1.Pod{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			m.mu.Lock()
			if ev.Type == watch.Deleted || p.DeletionTimestamp != nil {
				delete(m.pods, p.Name)
			} else {
				m.pods[p.Name] = p
			}
			m.maxPods = max(m.maxPods, len(m.pods))
			if m.check != nil {
				if err := m.check(m.pods); err != nil {
					m.violations = append(m.violations, err.Error())
				}
			}
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() { w.Stop(); <-done })
	return m
}

// setCheck installs an invariant; it also resets the recorded maximum.
func (m *podMonitor) setCheck(f func(pods map[string]*corev1.Pod) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.check, m.violations, m.maxPods = f, nil, len(m.pods)
}

func (m *podMonitor) result() (violations []string, maxPods int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.violations...), m.maxPods
}

// waitFor polls cond until it holds or 30s pass.
func waitFor(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last error: %v)", what, err, last)
	}
}
