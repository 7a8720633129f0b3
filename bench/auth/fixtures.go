package main

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Names of what the benchmark creates in each server.
const (
	nsMain      = "authbench"         // config map, secret, service accounts, the node's pod
	nsPods      = "authbench-pods"    // the pods that are listed
	nsCreates   = "authbench-creates" // where CREATE puts its config maps
	configMap   = "bench-cm"
	secret      = "bench-secret"
	otherSecret = "not-on-node" // no pod of the node uses it: the node must be refused
	nodeName    = "bench-node"
	nodePod     = "bench-node-pod"
	readerSA    = "reader"     // view in nsMain and nsPods
	writerSA    = "writer"     // edit in nsCreates
	certUser    = "bench-user" // client certificate; view in nsMain and nsPods, edit in nsCreates
)

// setupFixtures creates, as admin, everything the scenarios read: the
// namespaces, the config map and secrets, `pods` pods to list, an
// unschedulable Node with one pod bound to it that mounts the config map
// and the secret, the two service accounts, and RoleBindings for them and
// for the certificate user.
func setupFixtures(ctx context.Context, cs kubernetes.Interface, pods int) error {
	for _, ns := range []string{nsMain, nsPods, nsCreates} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	if _, err := cs.CoreV1().ConfigMaps(nsMain).Create(ctx, benchConfigMap(configMap), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("config map: %w", err)
	}
	for _, name := range []string{secret, otherSecret} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name},
			StringData: map[string]string{"password": "correct horse battery staple"}}
		if _, err := cs.CoreV1().Secrets(nsMain).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("secret %s: %w", name, err)
		}
	}
	if err := createPods(ctx, cs, pods); err != nil {
		return err
	}
	// Unschedulable, so that the scheduler leaves the listed pods pending
	// instead of binding them here (the node authorizer's work grows with
	// the pods on the node).
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}, Spec: corev1.NodeSpec{Unschedulable: true}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if _, err := cs.CoreV1().Pods(nsMain).Create(ctx, nodeBoundPod(), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("node's pod: %w", err)
	}
	for _, sa := range []string{readerSA, writerSA} {
		if _, err := cs.CoreV1().ServiceAccounts(nsMain).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("service account %s: %w", sa, err)
		}
	}
	sa := func(name string) rbacv1.Subject {
		return rbacv1.Subject{Kind: "ServiceAccount", Namespace: nsMain, Name: name}
	}
	usr := rbacv1.Subject{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: certUser}
	bindings := []struct {
		ns, role string
		subject  rbacv1.Subject
	}{
		{nsMain, "view", sa(readerSA)}, {nsPods, "view", sa(readerSA)}, {nsCreates, "edit", sa(writerSA)},
		{nsMain, "view", usr}, {nsPods, "view", usr}, {nsCreates, "edit", usr},
	}
	for _, b := range bindings {
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: b.subject.Name + "-" + b.role},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: b.role},
			Subjects:   []rbacv1.Subject{b.subject},
		}
		if _, err := cs.RbacV1().RoleBindings(b.ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("role binding %s/%s: %w", b.ns, rb.Name, err)
		}
	}
	return nil
}

// createPods creates n minimal pods in nsPods from 8 goroutines.
func createPods(ctx context.Context, cs kubernetes.Interface, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				p := minimalPod(fmt.Sprintf("listed-%04d", i))
				if _, err := cs.CoreV1().Pods(nsPods).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("pod %s: %w", p.Name, err)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs // nil when the channel is empty
}

func benchConfigMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "authbench"}},
		Data: map[string]string{"greeting": "hello", "color": "blue"}}
}

func minimalPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "authbench"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.10"}}},
	}
}

// nodeBoundPod is bound to nodeName and mounts the config map and the
// secret, which makes them readable by the node. It tolerates every taint
// so that the node going unreachable (no agent heartbeats) does not evict
// it during the run.
func nodeBoundPod() *corev1.Pod {
	p := minimalPod(nodePod)
	p.Spec.NodeName = nodeName
	p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	p.Spec.Volumes = []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: configMap}}}},
		{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}},
	}
	return p
}
