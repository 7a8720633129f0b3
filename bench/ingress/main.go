// Command ingress-bench measures requests per second and p99 latency
// through Skiff's ingress proxy to a local Go backend, side by side with
// nginx configured as a keep-alive reverse proxy to the same backend and
// with the backend alone, using one load generator in one run. Targets
// are measured in interleaved rounds and the median round is reported.
//
// It runs as its own helper processes: "ingress-bench backend" and
// "ingress-bench proxy" (so that the load generator does not share a Go
// runtime with what it measures).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/skiff-io/skiff/internal/ingress"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

const benchHost = "bench.example.com"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ingress-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "backend":
			return serveBackend(ctx, os.Args[2])
		case "proxy":
			return serveProxy(ctx, os.Args[2], os.Args[3])
		case "load": // ad-hoc: ingress-bench load <addr> <duration>
			d, err := time.ParseDuration(os.Args[3])
			if err != nil {
				return fmt.Errorf("duration: %w", err)
			}
			res, err := runLoad(ctx, os.Args[2], benchHost, 64, time.Second, d)
			if err != nil {
				return err
			}
			fmt.Printf("%.0f req/s  p50 %v  p99 %v  errors %d\n", res.rps(), res.p50, res.p99, res.errors)
			return nil
		}
	}
	conns := flag.Int("connections", 64, "concurrent keep-alive connections")
	duration := flag.Duration("duration", 10*time.Second, "measured time per round and target")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured warm-up per round")
	rounds := flag.Int("rounds", 3, "interleaved rounds per target")
	nginx := flag.String("nginx", "nginx", "nginx binary")
	outDir := flag.String("out-dir", "bench/results", "where ingress-<date>.txt goes")
	flag.Parse()
	return compare(ctx, *conns, *duration, *warmup, *rounds, *nginx, *outDir)
}

// serveBackend is the benchmark's upstream: a tiny fixed response.
func serveBackend(ctx context.Context, addr string) error {
	body := []byte("hello from the backend\n")
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return fmt.Errorf("backend: %w", err)
	}
	return nil
}

// serveProxy runs Skiff's ingress proxy with the table the controller
// would build for one Ingress routing benchHost to a Service whose one
// endpoint is the backend.
func serveProxy(ctx context.Context, addr, backend string) error {
	host, portStr, err := net.SplitHostPort(backend)
	if err != nil {
		return fmt.Errorf("proxy: backend: %w", err)
	}
	var port int32
	fmt.Sscan(portStr, &port)
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bench"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: benchHost,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "backend",
					Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "backend"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "backend-1",
		Labels: map[string]string{discoveryv1.LabelServiceName: "backend"}}, AddressType: discoveryv1.AddressTypeIPv4,
		Ports:     []discoveryv1.EndpointPort{{Name: ptr.To(""), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{host}}}}
	table, warnings := ingress.Build(ingress.Snapshot{Ingresses: []*networkingv1.Ingress{ing},
		Services: []*corev1.Service{svc}, EndpointSlices: []*discoveryv1.EndpointSlice{slice}})
	if len(warnings) > 0 {
		return fmt.Errorf("proxy: table: %v", warnings)
	}
	if path := os.Getenv("INGRESS_BENCH_CPUPROFILE"); path != "" { // for looking into the proxy
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("proxy: profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("proxy: profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	p := ingress.NewProxy(slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.SetTable(table)
	// As the ingress controller serves plain HTTP: through the Front.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	front := ingress.NewFront(p, srv)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		front.Shutdown(sctx)
	}()
	if err := front.Serve(ln); err != http.ErrServerClosed {
		return fmt.Errorf("proxy: %w", err)
	}
	return nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitListening polls until addr accepts connections.
func waitListening(addr string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s never listened: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const nginxConf = `daemon off;
worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  keepalive_requests 1000000;
  upstream backend {
    server %[3]s;
    keepalive 256;
  }
  server {
    listen %[2]s;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`

type target struct{ name, addr string }

func compare(ctx context.Context, conns int, d, warmup time.Duration, rounds int, nginxBin, outDir string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("executable: %w", err)
	}
	dir, err := os.MkdirTemp("", "skiff-ingress-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	backendAddr, err := freePort()
	if err != nil {
		return err
	}
	proxyAddr, err := freePort()
	if err != nil {
		return err
	}
	nginxAddr, err := freePort()
	if err != nil {
		return err
	}
	tunedAddr, err := freePort()
	if err != nil {
		return err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, dir, nginxAddr, backendAddr)), 0o644); err != nil {
		return fmt.Errorf("nginx config: %w", err)
	}
	nginxVersion, _ := exec.Command(nginxBin, "-v").CombinedOutput()
	procs := []*exec.Cmd{
		exec.Command(self, "backend", backendAddr),
		exec.Command(self, "proxy", proxyAddr, backendAddr),
		exec.Command(nginxBin, "-p", dir, "-c", conf),
		exec.Command(self, "proxy", tunedAddr, backendAddr),
	}
	procs[3].Env = append(os.Environ(), "GOGC=400")
	for _, c := range procs {
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Start(); err != nil {
			return fmt.Errorf("starting %s: %w", c.Path, err)
		}
		defer func(c *exec.Cmd) { c.Process.Signal(syscall.SIGTERM); c.Wait() }(c)
	}
	targets := []target{{"backend direct", backendAddr}, {"skiff ingress", proxyAddr}, {"nginx", nginxAddr},
		{"skiff GOGC=400", tunedAddr}}
	for _, t := range targets {
		if err := waitListening(t.addr); err != nil {
			return err
		}
	}
	loadBefore, _ := os.ReadFile("/proc/loadavg")
	results := map[string][]loadResult{}
	for r := 1; r <= rounds; r++ {
		for _, t := range targets {
			res, err := runLoad(ctx, t.addr, benchHost, conns, warmup, d)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			fmt.Fprintf(os.Stderr, "round %d %-16s %10.0f req/s  p50 %8v  p99 %8v  errors %d\n", r, t.name, res.rps(), res.p50, res.p99, res.errors)
			results[t.name] = append(results[t.name], res)
		}
	}
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "Skiff ingress benchmark, %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "machine: %s, %d CPUs, %s; %s", host, runtime.NumCPU(), runtime.Version(), strings.TrimSpace(string(nginxVersion))+"\n")
	fmt.Fprintf(&b, "load: %d keep-alive connections, one request at a time each, GET /bench Host %s, %v measured after %v warm-up, %d interleaved rounds; median round shown\n",
		conns, benchHost, d, warmup, rounds)
	fmt.Fprintf(&b, "everything (load generator, proxies, backend) shares the same %d CPUs on 127.0.0.1\n", runtime.NumCPU())
	loadAfter, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&b, "load average before/after: %s / %s (other jobs on the machine skew the figures)\n",
		strings.TrimSpace(string(loadBefore)), strings.TrimSpace(string(loadAfter)))
	fmt.Fprintf(&b, "\"skiff GOGC=400\" is the same proxy with a less eager garbage collector, standing in for the large heap\n"+
		"of a real skiff server process (the benchmark's proxy process has a tiny heap, so it collects far more often)\n\n")
	fmt.Fprintf(&b, "%-16s %12s %10s %10s %8s   rounds (req/s)\n", "target", "req/s", "p50", "p99", "errors")
	for _, t := range targets {
		rs := results[t.name]
		sorted := append([]loadResult(nil), rs...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].rps() < sorted[j].rps() })
		m := sorted[len(sorted)/2]
		var each []string
		for _, r := range rs {
			each = append(each, fmt.Sprintf("%.0f", r.rps()))
		}
		fmt.Fprintf(&b, "%-16s %12.0f %10v %10v %8d   %s\n", t.name, m.rps(), m.p50.Round(time.Microsecond), m.p99.Round(time.Microsecond), m.errors, strings.Join(each, " "))
	}
	fmt.Print(b.String())
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	name := filepath.Join(outDir, "ingress-"+time.Now().UTC().Format("20060102-150405")+".txt")
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(outDir, "ingress-latest.txt"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	fmt.Fprintln(os.Stderr, "wrote", name)
	return nil
}
