package proxy

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// labelServiceProxyName on a Service hands it to another proxy.
const labelServiceProxyName = "service.kubernetes.io/service-proxy-name"

// selectServices drops the Services another proxy is responsible for.
func selectServices(svcs []*corev1.Service) []*corev1.Service {
	out := svcs[:0:0]
	for _, s := range svcs {
		if _, other := s.Labels[labelServiceProxyName]; !other {
			out = append(out, s)
		}
	}
	return out
}

// selectSlices drops the slices of headless Services, which have nothing
// to proxy.
func selectSlices(slices []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	out := slices[:0:0]
	for _, s := range slices {
		if _, headless := s.Labels[corev1.IsHeadlessService]; !headless {
			out = append(out, s)
		}
	}
	return out
}

// requestSync asks the loop for a sync; requests coalesce.
func (p *Proxy) requestSync() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run programs the kernel until ctx ends. The rules stay in place after
// Run returns, so that Services keep working while the proxy restarts.
func (p *Proxy) Run(ctx context.Context) error {
	if err := setSysctls(p.cfg.Sysctl, p.log); err != nil {
		return err
	}
	svcInf := p.factory.Core().V1().Services()
	sliceInf := p.factory.Discovery().V1().EndpointSlices()
	p.services, p.slices = svcInf.Lister(), sliceInf.Lister()
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(interface{}) { p.requestSync() },
		UpdateFunc: func(interface{}, interface{}) { p.requestSync() },
		DeleteFunc: func(interface{}) { p.requestSync() },
	}
	for _, inf := range []cache.SharedIndexInformer{svcInf.Informer(), sliceInf.Informer()} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
	}
	p.factory.Start(ctx.Done())
	defer p.factory.Shutdown()
	for typ, ok := range p.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("proxy: %v cache did not sync", typ)
		}
	}
	p.log.Info("service proxy started", "node", p.cfg.NodeName, "mode", p.cfg.Mode)
	p.loop(ctx)
	return nil
}

// loop syncs on request, at most once per MinSyncInterval, and
// periodically; failed syncs are retried.
func (p *Proxy) loop(ctx context.Context) {
	periodic := time.NewTicker(p.cfg.SyncInterval)
	defer periodic.Stop()
	retry := time.NewTimer(0) // the first sync, at once
	defer retry.Stop()
	lastFull := time.Now()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-periodic.C:
			if !p.syncer.Intact(ctx) && ctx.Err() == nil {
				p.log.Warn("service rules missing from the kernel; resyncing fully")
				p.syncer.ForceFull()
			}
		case <-retry.C:
		}
		if wait := time.Until(last.Add(p.cfg.MinSyncInterval)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		// Whatever arrived while waiting is covered by this sync.
		select {
		case <-p.kick:
		default:
		}
		last = time.Now()
		if time.Since(lastFull) >= p.cfg.FullSyncInterval {
			// Everything is recomputed from the objects and rewritten.
			p.builder.Reset()
			p.syncer.ForceFull()
			lastFull = time.Now()
		}
		if err := p.syncOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("sync failed; retrying", "err", err, "in", retryInterval)
			retry.Reset(retryInterval)
		}
	}
}

func (p *Proxy) syncOnce(ctx context.Context) error {
	start := time.Now()
	st, err := p.state()
	if err != nil {
		return err
	}
	n, err := p.syncer.Sync(ctx, st)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	if n > 0 {
		p.log.Debug("synced", "servicePorts", len(st.Services), "bytes", n, "took", time.Since(start))
	}
	return nil
}
