package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Defaults of Config.
const (
	DefaultDomain     = "cluster.local"
	DefaultListen     = "0.0.0.0:10053"
	DefaultTTL        = 5 * time.Second
	DefaultCacheSize  = 10000
	DefaultCacheTTL   = 30 * time.Second
	defaultFwdTimeout = 2 * time.Second
	// maxUDPSize is the EDNS0 buffer size the server advertises and the
	// largest UDP answer it sends.
	maxUDPSize = 4096
)

// Config configures a Server.
type Config struct {
	// Client reads Services, EndpointSlices and (for PodsVerified) Pods.
	Client kubernetes.Interface
	// Domain is the cluster domain (default cluster.local).
	Domain string
	// Listen are the host:port addresses served over UDP and TCP
	// (default 0.0.0.0:10053); port 0 picks a free port, see Addrs.
	Listen []string
	// TTL of cluster answers (default 5s, whole seconds).
	TTL time.Duration
	// Pods selects how pod names are answered (default PodsInsecure).
	Pods PodMode
	// Upstreams are the resolvers (host:port) for other names; nil
	// reads the nameservers of ResolvConf.
	Upstreams []string
	// ResolvConf is the file upstreams are read from (default
	// /etc/resolv.conf).
	ResolvConf string
	// CacheSize is the number of forwarded answers kept (default 10000;
	// negative disables the cache). CacheMaxTTL caps how long (default 30s).
	CacheSize   int
	CacheMaxTTL time.Duration
	// ForwardTimeout is the time allowed to each upstream (default 2s).
	ForwardTimeout time.Duration
	Logger         *slog.Logger
}

// Server is the cluster DNS server.
type Server struct {
	cfg     Config
	zone    Zone
	factory informers.SharedInformerFactory
	synced  []cache.InformerSynced
	store   Store
	fwd     *forwarder

	ready chan struct{}
	mu    sync.Mutex
	addrs []net.Addr
}

// New returns a server; Run starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Client == nil {
		return nil, errors.New("dns: Client is required")
	}
	if cfg.Domain == "" {
		cfg.Domain = DefaultDomain
	}
	if len(cfg.Listen) == 0 {
		cfg.Listen = []string{DefaultListen}
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = "/etc/resolv.conf"
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.CacheMaxTTL <= 0 {
		cfg.CacheMaxTTL = DefaultCacheTTL
	}
	if cfg.ForwardTimeout <= 0 {
		cfg.ForwardTimeout = defaultFwdTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "dns")
	if _, ok := dns.IsDomainName(cfg.Domain); !ok {
		return nil, fmt.Errorf("dns: invalid domain %q", cfg.Domain)
	}
	upstreams := cfg.Upstreams
	if upstreams == nil {
		data, err := os.ReadFile(cfg.ResolvConf)
		if err != nil {
			log.Warn("no upstream resolvers; names outside the cluster will fail", "err", err)
		}
		upstreams = Upstreams(data, cfg.Listen)
		servers, _, _ := parseResolvConf(data)
		if len(upstreams) < len(servers) {
			log.Warn("skipped nameservers of resolv.conf that are this server (forwarding would loop)",
				"file", cfg.ResolvConf, "nameservers", servers, "upstreams", upstreams)
		}
	}
	s := &Server{cfg: cfg, ready: make(chan struct{}),
		// Normalised once: Resolve then lower-cases and qualifies it without allocating.
		zone: Zone{Domain: dns.Fqdn(strings.ToLower(cfg.Domain)), TTL: uint32(cfg.TTL / time.Second), Pods: cfg.Pods},
		fwd:  newForwarder(upstreams, cfg.ForwardTimeout, newCache(cfg.CacheSize, cfg.CacheMaxTTL, time.Now))}
	s.factory = informers.NewSharedInformerFactory(cfg.Client, 0)
	svcs := s.factory.Core().V1().Services().Informer()
	slices := s.factory.Discovery().V1().EndpointSlices().Informer()
	if err := addIndexers(svcs, serviceIndexers()); err != nil {
		return nil, err
	}
	if err := addIndexers(slices, sliceIndexers()); err != nil {
		return nil, err
	}
	st := &informerStore{services: svcs.GetIndexer(), slices: slices.GetIndexer()}
	s.synced = []cache.InformerSynced{svcs.HasSynced, slices.HasSynced}
	if cfg.Pods == PodsVerified {
		pods := s.factory.Core().V1().Pods().Informer()
		if err := addIndexers(pods, podIndexers()); err != nil {
			return nil, err
		}
		st.pods = pods.GetIndexer()
		s.synced = append(s.synced, pods.HasSynced)
	}
	s.store = st
	return s, nil
}

// Ready is closed once the server answers queries.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addrs are the bound UDP and TCP addresses, once Ready.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]net.Addr(nil), s.addrs...)
}

// Run syncs the informers, then serves every listen address over UDP and
// TCP until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	log := s.cfg.Logger.With("component", "dns")
	s.factory.Start(ctx.Done())
	defer s.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), s.synced...) {
		return nil
	}
	var servers []*dns.Server
	shutdown := func() {
		for _, srv := range servers {
			_ = srv.Shutdown()
		}
	}
	for _, addr := range s.cfg.Listen {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			shutdown()
			return fmt.Errorf("dns: listen udp %s: %w", addr, err)
		}
		// The TCP listener takes the port UDP got, for port 0.
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			pc.Close()
			shutdown()
			return fmt.Errorf("dns: listen tcp %s: %w", addr, err)
		}
		servers = append(servers, &dns.Server{PacketConn: pc, Handler: s, UDPSize: maxUDPSize},
			&dns.Server{Listener: l, Handler: s, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: func() time.Duration { return 10 * time.Second }})
		s.mu.Lock()
		s.addrs = append(s.addrs, pc.LocalAddr(), l.Addr())
		s.mu.Unlock()
	}
	errc := make(chan error, len(servers))
	var started sync.WaitGroup
	for _, srv := range servers {
		started.Add(1)
		srv.NotifyStartedFunc = started.Done
		go func() { errc <- srv.ActivateAndServe() }()
	}
	started.Wait()
	log.Info("cluster DNS serving", "domain", s.cfg.Domain, "addrs", s.Addrs(), "upstreams", s.fwd.upstreams)
	close(s.ready)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("dns: serve: %w", err)
	}
	shutdown()
	return err
}

// ServeDNS answers one query: from the cluster state for the cluster
// domain, from upstream for the rest.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := s.answer(req)
	tcp := strings.HasPrefix(w.LocalAddr().Network(), "tcp")
	finish(req, m, tcp)
	if err := w.WriteMsg(m); err != nil {
		s.cfg.Logger.Debug("dns: write answer", "err", err)
	}
}

func (s *Server) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	if req.Opcode != dns.OpcodeQuery {
		return m.SetRcode(req, dns.RcodeNotImplemented)
	}
	if len(req.Question) != 1 {
		return m.SetRcode(req, dns.RcodeFormatError)
	}
	if opt := req.IsEdns0(); opt != nil && opt.Version() != 0 {
		m.SetRcode(req, dns.RcodeBadVers)
		m.SetEdns0(maxUDPSize, false)
		return m
	}
	ans := Resolve(s.store, s.zone, req.Question[0])
	if ans.Forward {
		return s.forward(req)
	}
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = true
	m.Rcode = ans.Rcode
	m.Answer, m.Ns, m.Extra = ans.Answer, ans.Ns, ans.Extra
	if ans.Target != "" {
		s.chase(req, m, ans.Target)
	}
	return m
}

func (s *Server) forward(req *dns.Msg) *dns.Msg {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ForwardTimeout*time.Duration(max(1, len(s.fwd.upstreams))))
	defer cancel()
	resp, err := s.fwd.forward(ctx, req)
	if err != nil {
		s.cfg.Logger.Debug("dns: forward failed", "err", err)
		return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
	}
	return resp
}

// chase appends the address records of a CNAME target outside the
// cluster domain (an ExternalName Service), as CoreDNS does; on failure
// the client gets the CNAME alone and resolves it itself.
func (s *Server) chase(req, m *dns.Msg, target string) {
	q := req.Question[0]
	sub := new(dns.Msg)
	sub.SetQuestion(target, q.Qtype)
	sub.RecursionDesired = true
	var resp *dns.Msg
	if ans := Resolve(s.store, s.zone, sub.Question[0]); !ans.Forward {
		resp = &dns.Msg{Answer: ans.Answer}
	} else {
		resp = s.forward(sub)
	}
	if resp.Rcode == dns.RcodeSuccess {
		m.Answer = append(m.Answer, resp.Answer...)
	}
}

// finish fits m to the transport: the EDNS0 OPT record echoed for EDNS
// clients, and UDP answers truncated to the client's buffer size.
func finish(req, m *dns.Msg, tcp bool) {
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		if m.IsEdns0() == nil {
			m.SetEdns0(maxUDPSize, opt.Do())
		}
		size = min(max(int(opt.UDPSize()), dns.MinMsgSize), maxUDPSize)
	}
	if tcp {
		size = dns.MaxMsgSize
	}
	m.Compress = true
	m.Truncate(size)
}
