package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	protobufCT = "application/vnd.kubernetes.protobuf"
	jsonCT     = "application/json"
	// tableAccept is what kubectl get sends for human-readable output.
	tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)

// clientFor returns a clientset for the admin kubeconfig with client-side
// rate limiting off and the given wire format (requests and responses).
func clientFor(kubeconfig, contentType string) (*kubernetes.Clientset, *rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	cfg.QPS, cfg.Burst = -1, 0 // unthrottled
	cfg.ContentType = contentType
	cfg.AcceptContentTypes = contentType
	if contentType == protobufCT {
		cfg.AcceptContentTypes = protobufCT + "," + jsonCT
	}
	cfg.UserAgent = "skiff-apiserver-bench"
	cs, err := kubernetes.NewForConfig(cfg)
	return cs, cfg, err
}

// minimalPod is the smallest pod that passes validation.
func minimalPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "pause",
			Image: "registry.k8s.io/pause:3.10",
		}}},
	}
}

func podName(i int) string { return fmt.Sprintf("bench-%06d", i) }

func ensureNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	return err
}

// createPods creates n pods in ns from `clients` goroutines sharing one
// clientset (one HTTP/2 connection, as a controller's clients do).
func createPods(ctx context.Context, cs kubernetes.Interface, ns string, n, clients int) LoadResult {
	return runConcurrent(ctx, n, clients, func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Pods(ns).Create(ctx, minimalPod(podName(i)), metav1.CreateOptions{})
		return err
	})
}

// timeRuns runs f warmup+runs times and returns the durations of the
// measured runs.
func timeRuns(ctx context.Context, warmup, runs int, f func(context.Context) error) ([]time.Duration, error) {
	var out []time.Duration
	for i := range warmup + runs {
		start := time.Now()
		if err := f(ctx); err != nil {
			return nil, err
		}
		if i >= warmup {
			out = append(out, time.Since(start))
		}
	}
	return out, nil
}

// listTyped is a full LIST without limit decoded into a PodList.
func listTyped(cs kubernetes.Interface, ns string, want int) func(context.Context) error {
	return func(ctx context.Context) error {
		l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(l.Items) != want {
			return fmt.Errorf("list returned %d pods, want %d", len(l.Items), want)
		}
		return nil
	}
}

// listRaw is a full LIST without limit whose body is read but not decoded:
// server time plus transfer. It records the body size in *size.
func listRaw(cs kubernetes.Interface, ns, accept string, size *int) func(context.Context) error {
	return func(ctx context.Context) error {
		b, err := cs.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").
			SetHeader("Accept", accept).DoRaw(ctx)
		if err != nil {
			return err
		}
		*size = len(b)
		return nil
	}
}

// listTablePaged lists as kubectl get does: Table output, limit=500,
// following continue tokens to the end.
func listTablePaged(cs kubernetes.Interface, ns string, want int) func(context.Context) error {
	return func(ctx context.Context) error {
		cont, rows, pages := "", 0, 0
		for {
			req := cs.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").
				Param("limit", "500").SetHeader("Accept", tableAccept)
			if cont != "" {
				req = req.Param("continue", cont)
			}
			b, err := req.DoRaw(ctx)
			if err != nil {
				return err
			}
			var t struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Continue string `json:"continue"`
				} `json:"metadata"`
				Rows []json.RawMessage `json:"rows"`
			}
			if err := json.Unmarshal(b, &t); err != nil {
				return fmt.Errorf("decoding table page: %w", err)
			}
			if t.Kind != "Table" {
				return fmt.Errorf("paged list returned kind %q, want Table", t.Kind)
			}
			rows += len(t.Rows)
			pages++
			if t.Metadata.Continue == "" {
				break
			}
			if pages > want/500+10 {
				return fmt.Errorf("paged list did not end after %d pages", pages)
			}
			cont = t.Metadata.Continue
		}
		if rows != want {
			return fmt.Errorf("paged table list returned %d rows, want %d", rows, want)
		}
		return nil
	}
}

// kubectlGet runs the real kubectl (`get pods -n ns`, default paging and
// table output) and checks it printed want rows.
func kubectlGet(kubectl, kubeconfig, cacheDir, ns string, want int) func(context.Context) error {
	return func(ctx context.Context) error {
		cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "--cache-dir", cacheDir,
			"get", "pods", "-n", ns, "--no-headers")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("kubectl get pods: %v: %s", err, errb.String())
		}
		if n := bytes.Count(out.Bytes(), []byte("\n")); n != want {
			return fmt.Errorf("kubectl get pods printed %d lines, want %d", n, want)
		}
		return nil
	}
}

// kubectlCacheDir is a fresh discovery cache directory under root.
func kubectlCacheDir(root string) (string, error) {
	d := filepath.Join(root, "kubectl-cache")
	return d, os.MkdirAll(d, 0o700)
}
