// Command dns benchmarks Skiff's cluster DNS: queries per second for a
// Service A record over UDP from concurrent clients on loopback, against
// the server started in-process over a fake API with 1,000 Services, next
// to a trivial miekg/dns server answering one fixed record (the ratio is
// the cost of the cluster lookup). Results go to
// <out-dir>/dns-<date>.txt and <out-dir>/dns-latest.txt.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	skiffdns "github.com/skiff-io/skiff/internal/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func main() {
	services := flag.Int("services", 1000, "Services in the fake API")
	clients := flag.Int("clients", 8, "concurrent UDP clients")
	duration := flag.Duration("duration", 5*time.Second, "length of one measurement")
	rounds := flag.Int("rounds", 3, "measurements of each server, alternating (the median is reported)")
	outDir := flag.String("out-dir", "", "directory for dns-<date>.txt and dns-latest.txt (none: stdout only)")
	flag.Parse()
	if err := run(*services, *clients, *duration, *rounds, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "dns bench:", err)
		os.Exit(1)
	}
}

// result is one measurement.
type result struct {
	Queries, Errors int64
	Wall            time.Duration
	P50, P99        time.Duration
}

func (r result) qps() float64 { return float64(r.Queries) / r.Wall.Seconds() }

func run(services, clients int, duration time.Duration, rounds int, outDir string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	objs := make([]k8sruntime.Object, 0, services)
	for i := 0; i < services; i++ {
		objs = append(objs, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns-%d", i%10), Name: fmt.Sprintf("svc-%d", i)},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ip(i), ClusterIPs: []string{ip(i)},
				Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}}}})
	}
	srv, err := skiffdns.New(skiffdns.Config{Client: fake.NewClientset(objs...), Listen: []string{"127.0.0.1:0"},
		Upstreams: []string{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-time.After(time.Minute):
		return errors.New("server not ready after a minute")
	}
	skiffAddr := srv.Addrs()[0].String()
	refAddr, stopRef, err := startReference()
	if err != nil {
		return err
	}
	defer stopRef()

	names := make([]string, services)
	for i := range names {
		names[i] = fmt.Sprintf("svc-%d.ns-%d.svc.cluster.local.", i, i%10)
	}
	// Check one answer from each before measuring.
	if err := check(skiffAddr, names[7], ip(7)); err != nil {
		return err
	}
	if err := check(refAddr, names[7], "192.0.2.1"); err != nil {
		return err
	}

	var ref, sk []result
	for r := 0; r < rounds; r++ {
		fmt.Fprintf(os.Stderr, "round %d/%d...\n", r+1, rounds)
		res, err := load(refAddr, names, clients, duration)
		if err != nil {
			return err
		}
		ref = append(ref, res)
		res, err = load(skiffAddr, names, clients, duration)
		if err != nil {
			return err
		}
		sk = append(sk, res)
	}
	report := format(services, clients, duration, ref, sk)
	fmt.Print(report)
	if outDir == "" {
		return nil
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	for _, name := range []string{"dns-" + time.Now().UTC().Format("20060102-150405") + ".txt", "dns-latest.txt"} {
		if err := os.WriteFile(filepath.Join(outDir, name), []byte(report), 0o644); err != nil {
			return fmt.Errorf("results: %w", err)
		}
	}
	return nil
}

func ip(i int) string { return fmt.Sprintf("10.43.%d.%d", 1+i/250, i%250+1) }

// startReference serves a fixed A record for every name: the cost of
// miekg/dns itself, with no lookup.
func startReference() (string, func(), error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("reference: %w", err)
	}
	fixed := net.ParseIP("192.0.2.1").To4()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg).SetReply(r)
		m.Authoritative = true
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: fixed}}
		_ = w.WriteMsg(m)
	})
	s := &dns.Server{PacketConn: pc, Handler: h}
	started := make(chan struct{})
	s.NotifyStartedFunc = func() { close(started) }
	go func() { _ = s.ActivateAndServe() }()
	<-started
	return pc.LocalAddr().String(), func() { _ = s.Shutdown() }, nil
}

func check(addr, name, want string) error {
	c := &dns.Client{Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeA), addr)
	if err != nil {
		return fmt.Errorf("check %s: %w", addr, err)
	}
	if len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != want {
		return fmt.Errorf("check %s: %s answered %v, want %s", addr, name, resp.Answer, want)
	}
	return nil
}

// load runs clients goroutines, each on its own UDP socket sending one
// query at a time for a random Service name, for duration.
func load(addr string, names []string, clients int, duration time.Duration) (result, error) {
	var queries, errs atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	stop := start.Add(duration)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := dns.Dial("udp", addr)
			if err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
			defer conn.Close()
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			m := new(dns.Msg)
			for time.Now().Before(stop) {
				m.SetQuestion(names[rng.IntN(len(names))], dns.TypeA)
				t0 := time.Now()
				_ = conn.SetDeadline(t0.Add(2 * time.Second))
				if err := conn.WriteMsg(m); err != nil {
					errs.Add(1)
					continue
				}
				resp, err := conn.ReadMsg()
				if err != nil || resp.Id != m.Id || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
					errs.Add(1)
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
				queries.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return result{}, fmt.Errorf("load %s: %w", addr, firstErr)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	res := result{Queries: queries.Load(), Errors: errs.Load(), Wall: time.Since(start)}
	if len(all) > 0 {
		res.P50, res.P99 = all[len(all)/2], all[len(all)*99/100]
	}
	return res, nil
}

func median(rs []result) result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int {
		switch {
		case a.qps() < b.qps():
			return -1
		case a.qps() > b.qps():
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

func format(services, clients int, duration time.Duration, ref, sk []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Cluster DNS benchmark, %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "machine: %d CPUs (GOMAXPROCS %d), %s/%s, %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(&b, "setup: %d Services (fake API, real informers), %d UDP clients on 127.0.0.1, one query in flight each,\n", services, clients)
	fmt.Fprintf(&b, "       random Service A record per query, %s per measurement, %d alternating rounds, median reported\n\n", duration, len(sk))
	fmt.Fprintf(&b, "%-38s %12s %10s %10s %8s\n", "server", "queries/s", "p50", "p99", "errors")
	r, s := median(ref), median(sk)
	row := func(name string, x result) {
		fmt.Fprintf(&b, "%-38s %12.0f %10s %10s %8d\n", name, x.qps(), x.P50.Round(time.Microsecond), x.P99.Round(time.Microsecond), x.Errors)
	}
	row("reference: miekg/dns fixed answer", r)
	row("skiff cluster DNS (Service A record)", s)
	fmt.Fprintf(&b, "\nratio skiff/reference: %.2f\n", s.qps()/r.qps())
	fmt.Fprintf(&b, "\nall rounds (queries/s): reference")
	for _, x := range ref {
		fmt.Fprintf(&b, " %.0f", x.qps())
	}
	fmt.Fprintf(&b, "; skiff")
	for _, x := range sk {
		fmt.Fprintf(&b, " %.0f", x.qps())
	}
	fmt.Fprintln(&b)
	return b.String()
}
