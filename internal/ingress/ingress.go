package ingress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
)

// tableKey is the single work-queue key: every change rebuilds the whole
// table, and the queue coalesces bursts of changes into one rebuild.
const tableKey = "table"

// Config configures the ingress controller and proxy.
type Config struct {
	// HTTPAddr and HTTPSAddr are the listen addresses (":80", ":443";
	// "127.0.0.1:0" in tests). Empty turns that listener off.
	// With HTTPSAddr empty no certificate is needed, so Secrets are not
	// watched (a node agent's identity may not list them).
	HTTPAddr, HTTPSAddr string
	Client              kubernetes.Interface
	Logger              *slog.Logger
	// SkipDefaultClass leaves creating the default IngressClass to the
	// server (a node agent's ingress proxy may not create it).
	SkipDefaultClass bool
}

// Ingress is a running ingress controller with its proxy listeners.
type Ingress struct {
	cfg       Config
	log       *slog.Logger
	proxy     *Proxy
	fallback  *tls.Certificate
	certs     *CertCache // used by Reconcile only (one worker)
	factory   informers.SharedInformerFactory
	tlsOnly   informers.SharedInformerFactory // Secrets of type kubernetes.io/tls only
	ctrl      *controller.Controller
	ingresses networkinglisters.IngressLister
	classes   networkinglisters.IngressClassLister
	services  corelisters.ServiceLister
	slices    discoverylisters.EndpointSliceLister
	secrets   corelisters.SecretLister
	httpLn    net.Listener
	httpsLn   net.Listener
}

// New opens the listeners and wires the informers; Run serves.
func New(cfg Config) (*Ingress, error) {
	if cfg.Client == nil {
		return nil, errors.New("ingress: Client is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "ingress")
	fallback, err := SelfSigned()
	if err != nil {
		return nil, err
	}
	in := &Ingress{cfg: cfg, log: log, proxy: NewProxy(log), fallback: fallback, certs: NewCertCache(),
		factory: informers.NewSharedInformerFactory(cfg.Client, 0),
		tlsOnly: informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, informers.WithTweakListOptions(tlsSecretsOnly))}
	in.ctrl, err = controller.New(controller.Config{Name: "ingress", Reconciler: in, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("ingress: %w", err)
	}
	always := func(interface{}) (string, bool) { return tableKey, true }
	net1 := in.factory.Networking().V1()
	core := in.factory.Core().V1()
	disc := in.factory.Discovery().V1()
	ingInf, classInf := net1.Ingresses(), net1.IngressClasses()
	svcInf, sliceInf, secInf := core.Services(), disc.EndpointSlices(), in.tlsOnly.Core().V1().Secrets()
	for _, inf := range []cache.SharedIndexInformer{ingInf.Informer(), classInf.Informer(), svcInf.Informer(), sliceInf.Informer()} {
		if err := in.ctrl.Watch(inf, always); err != nil {
			return nil, fmt.Errorf("ingress: %w", err)
		}
	}
	if cfg.HTTPSAddr != "" {
		if err := in.ctrl.Watch(secInf.Informer(), secretKey); err != nil {
			return nil, fmt.Errorf("ingress: %w", err)
		}
		in.secrets = secInf.Lister()
	}
	in.ingresses, in.classes = ingInf.Lister(), classInf.Lister()
	in.services, in.slices = svcInf.Lister(), sliceInf.Lister()
	if err := in.listen(); err != nil {
		return nil, err
	}
	return in, nil
}

// tlsSecretsOnly narrows the Secret informer to certificates (field
// selector type=kubernetes.io/tls, which Skiff's API server supports like
// Kubernetes'), so that the controller does not cache a cluster's other
// Secrets (service account tokens, Helm releases, ...). A certificate in
// a Secret of another type (e.g. Opaque with tls.crt/tls.key) is not
// served: the Ingress falls back to the default certificate.
func tlsSecretsOnly(o *metav1.ListOptions) {
	o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS)).String()
}

// secretKey rebuilds the table for changes to Secrets holding a
// certificate only (a second line of defence behind tlsSecretsOnly).
func secretKey(obj interface{}) (string, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	sec, ok := obj.(*corev1.Secret)
	if !ok {
		return tableKey, true
	}
	_, hasCert := sec.Data[corev1.TLSCertKey]
	return tableKey, hasCert || sec.Type == corev1.SecretTypeTLS
}

func (in *Ingress) listen() error {
	var err error
	if in.cfg.HTTPAddr != "" {
		if in.httpLn, err = net.Listen("tcp", in.cfg.HTTPAddr); err != nil {
			return fmt.Errorf("ingress: http listener: %w", err)
		}
	}
	if in.cfg.HTTPSAddr != "" {
		if in.httpsLn, err = net.Listen("tcp", in.cfg.HTTPSAddr); err != nil {
			if in.httpLn != nil {
				_ = in.httpLn.Close()
			}
			return fmt.Errorf("ingress: https listener: %w", err)
		}
	}
	return nil
}

// HTTPAddr returns the HTTP listener's address ("" when off).
func (in *Ingress) HTTPAddr() string { return addrOf(in.httpLn) }

// HTTPSAddr returns the HTTPS listener's address ("" when off).
func (in *Ingress) HTTPSAddr() string { return addrOf(in.httpsLn) }

func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// Proxy returns the reverse proxy, whose Table shows the current routes.
func (in *Ingress) Proxy() *Proxy { return in.proxy }

// Run makes sure the skiff IngressClass exists, then serves and keeps
// the routing table current until ctx ends, finishing requests in flight
// (for up to ten seconds) before it returns.
func (in *Ingress) Run(ctx context.Context) error {
	defer in.factory.Shutdown()
	defer in.tlsOnly.Shutdown()
	g, ctx := errgroup.WithContext(ctx)
	var shutdowns []func(context.Context) error
	serve := func(ln net.Listener, tlsCfg *tls.Config) {
		srv := &http.Server{Handler: in.proxy, TLSConfig: tlsCfg, ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(in.log.Handler(), slog.LevelDebug)}
		// Plain HTTP goes through the Front (HTTP/1.1 without net/http's
		// per-request costs, the rest handed to srv); HTTPS through srv.
		var front *Front
		if tlsCfg == nil {
			front = NewFront(in.proxy, srv)
			shutdowns = append(shutdowns, front.Shutdown)
		} else {
			shutdowns = append(shutdowns, srv.Shutdown)
		}
		g.Go(func() error {
			var err error
			if tlsCfg != nil {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = front.Serve(ln)
			}
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("ingress: serving %s: %w", ln.Addr(), err)
		})
	}
	if in.httpLn != nil {
		serve(in.httpLn, nil)
	}
	if in.httpsLn != nil {
		serve(in.httpsLn, in.proxy.TLSConfig(in.fallback))
	}
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, shutdown := range shutdowns {
			_ = shutdown(sctx)
		}
		in.proxy.CloseIdleConnections()
		return nil
	})
	if !in.cfg.SkipDefaultClass {
		g.Go(func() error { in.ensureClass(ctx); return nil })
	}
	in.factory.Start(ctx.Done())
	in.tlsOnly.Start(ctx.Done())
	g.Go(func() error { return in.ctrl.Run(ctx) })
	in.log.Info("ingress serving", "http", in.HTTPAddr(), "https", in.HTTPSAddr())
	return g.Wait()
}

// ensureClass creates the default skiff IngressClass if it is missing,
// retrying until it succeeds or ctx ends. An existing class is left as
// the user made it (e.g. no longer the default).
func (in *Ingress) ensureClass(ctx context.Context) {
	for delay := 250 * time.Millisecond; ; delay = min(2*delay, 10*time.Second) {
		_, err := in.cfg.Client.NetworkingV1().IngressClasses().Create(ctx, DefaultClass(), metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return
		}
		in.log.Warn("ingress: creating IngressClass", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// Reconcile rebuilds the routing table from the informers' caches and
// installs it.
func (in *Ingress) Reconcile(_ context.Context, _ string) error {
	snap, err := in.snapshot()
	if err != nil {
		return err
	}
	t, warnings := Build(snap)
	for _, w := range warnings {
		in.log.Debug("ingress: " + w)
	}
	in.proxy.SetTable(t)
	return nil
}

func (in *Ingress) snapshot() (Snapshot, error) {
	s := Snapshot{Certs: in.certs}
	classes, err := in.classes.List(labels.Everything())
	if err != nil {
		return s, fmt.Errorf("ingress: listing classes: %w", err)
	}
	ings, err := in.ingresses.List(labels.Everything())
	if err != nil {
		return s, fmt.Errorf("ingress: listing ingresses: %w", err)
	}
	for _, ing := range ings {
		if Serves(ing, classes) {
			s.Ingresses = append(s.Ingresses, ing)
		}
	}
	if s.Services, err = in.services.List(labels.Everything()); err != nil {
		return s, fmt.Errorf("ingress: listing services: %w", err)
	}
	if s.EndpointSlices, err = in.slices.List(labels.Everything()); err != nil {
		return s, fmt.Errorf("ingress: listing endpointslices: %w", err)
	}
	if in.secrets == nil {
		return s, nil
	}
	if s.Secrets, err = in.secrets.List(labels.Everything()); err != nil {
		return s, fmt.Errorf("ingress: listing secrets: %w", err)
	}
	return s, nil
}
