package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
)

// kindInfo is how the collector reaches objects of one kind.
type kindInfo struct {
	gvr        schema.GroupVersionResource // preferred version
	namespaced bool
}

// monitor watches the metadata of one resource.
type monitor struct {
	gvr        schema.GroupVersionResource
	kind       string
	apiVersion string
	namespaced bool
	informer   cache.SharedIndexInformer
	stop       chan struct{}
}

// discovered is one discovery pass: every kind (for owner look-ups) and
// the resources to monitor (listable, watchable, deletable, not ignored).
type discovered struct {
	kinds     map[schema.GroupKind]kindInfo
	deletable map[schema.GroupResource]*monitor
	// failed lists the groups whose discovery failed: their monitors are
	// kept as they are.
	failed map[string]bool
}

// discover reads the server's preferred resources.
func (c *Controller) discover() (*discovered, error) {
	lists, err := c.cfg.Client.Discovery().ServerPreferredResources()
	failed := map[string]bool{}
	if err != nil {
		var gdf *discovery.ErrGroupDiscoveryFailed
		if !errors.As(err, &gdf) || len(lists) == 0 {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		for gv := range gdf.Groups {
			failed[gv.Group] = true
		}
	}
	return classifyResources(lists, c.ignored, failed), nil
}

// classifyResources turns discovery lists into the kinds table and the
// monitors wanted: top-level resources that can be listed, watched and
// deleted, less the ignored ones.
func classifyResources(lists []*metav1.APIResourceList, ignored, failed map[string]bool) *discovered {
	d := &discovered{kinds: map[schema.GroupKind]kindInfo{}, deletable: map[schema.GroupResource]*monitor{}, failed: failed}
	for _, list := range lists {
		if list == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") {
				continue // a subresource
			}
			gvr := gv.WithResource(r.Name)
			d.kinds[gv.WithKind(r.Kind).GroupKind()] = kindInfo{gvr: gvr, namespaced: r.Namespaced}
			if ignored[gvr.GroupResource().String()] || !hasVerbs(r, "list", "watch", "delete") {
				continue
			}
			d.deletable[gvr.GroupResource()] = &monitor{gvr: gvr, kind: r.Kind, apiVersion: gv.String(), namespaced: r.Namespaced}
		}
	}
	return d
}

func hasVerbs(r metav1.APIResource, verbs ...string) bool {
	for _, v := range verbs {
		if !slices.Contains(r.Verbs, v) {
			return false
		}
	}
	return true
}

// resync brings the monitors in line with discovery: new resources get a
// monitor (and the workers pause until it has synced, so that no decision
// is made on a partial graph), vanished ones lose theirs.
func (c *Controller) resync(ctx context.Context) error {
	d, err := c.discover()
	if err != nil {
		return err
	}
	var started []*monitor
	c.mu.Lock()
	c.kinds = d.kinds
	for gr, m := range c.monitors {
		if _, ok := d.deletable[gr]; !ok && !d.failed[gr.Group] {
			close(m.stop)
			delete(c.monitors, gr)
			c.cfg.Logger.Info("stopped monitoring resource", "resource", gr.String())
		}
	}
	for gr, m := range d.deletable {
		if cur, ok := c.monitors[gr]; ok && cur.gvr == m.gvr {
			continue
		} else if ok {
			// The preferred version changed: watch the new one.
			close(cur.stop)
		}
		if err := c.startMonitor(ctx, m); err != nil {
			c.mu.Unlock()
			return err
		}
		c.monitors[gr] = m
		started = append(started, m)
	}
	c.mu.Unlock()
	if len(started) == 0 {
		return nil
	}
	synced := make([]cache.InformerSynced, 0, len(started))
	for _, m := range started {
		synced = append(synced, m.informer.HasSynced)
	}
	// Hold the workers while the new caches fill.
	c.pause.Lock()
	defer c.pause.Unlock()
	waitCtx, cancel := context.WithTimeout(ctx, c.cfg.SyncTimeout)
	defer cancel()
	if !cache.WaitForCacheSync(waitCtx.Done(), synced...) {
		c.cfg.Logger.Warn("timed out waiting for new resource monitors to sync", "count", len(started))
	}
	return nil
}

// startMonitor creates and runs the informer of a monitor.
func (c *Controller) startMonitor(ctx context.Context, m *monitor) error {
	inf := metadatainformer.NewFilteredMetadataInformer(c.cfg.Metadata, m.gvr, metav1.NamespaceAll, 0,
		cache.Indexers{}, nil).Informer()
	if err := inf.SetTransform(slimMetadata); err != nil {
		return fmt.Errorf("monitor %s: %w", m.gvr, err)
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { c.observe(m, obj) },
		UpdateFunc: func(_, obj interface{}) { c.observe(m, obj) },
		DeleteFunc: func(obj interface{}) { c.forget(m, obj) },
	})
	if err != nil {
		return fmt.Errorf("monitor %s: %w", m.gvr, err)
	}
	m.informer = inf
	m.stop = make(chan struct{})
	stop := m.stop
	go func() {
		// Stop with the monitor or with the controller.
		merged := make(chan struct{})
		go func() {
			select {
			case <-stop:
			case <-ctx.Done():
			}
			close(merged)
		}()
		inf.Run(merged)
	}()
	return nil
}

// slimMetadata drops what the collector never reads (managed fields,
// annotations, labels) before objects enter the cache.
func slimMetadata(obj interface{}) (interface{}, error) {
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		m.ManagedFields, m.Annotations, m.Labels = nil, nil, nil
	}
	return obj, nil
}

// observe feeds an added or updated object into the graph.
func (c *Controller) observe(m *monitor, obj interface{}) {
	meta, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return
	}
	n := &node{gvr: m.gvr, apiVersion: m.apiVersion, kind: m.kind, namespace: meta.Namespace, name: meta.Name,
		uid: meta.UID, owners: meta.OwnerReferences, deleting: meta.DeletionTimestamp != nil, finalizers: meta.Finalizers}
	for _, uid := range c.graph.upsert(n) {
		c.ctrl.Enqueue(string(uid))
	}
}

// forget removes a deleted object from the graph.
func (c *Controller) forget(m *monitor, obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	meta, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return
	}
	for _, uid := range c.graph.remove(m.gvr, meta.UID) {
		c.ctrl.Enqueue(string(uid))
	}
}

// lookupKind returns how to reach objects of a kind.
func (c *Controller) lookupKind(apiVersion, kind string) (kindInfo, bool) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return kindInfo{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.kinds[gv.WithKind(kind).GroupKind()]
	return k, ok
}

// cached returns the monitor's cached copy of an object, if the resource
// is monitored (monitored false otherwise).
func (c *Controller) cached(gr schema.GroupResource, namespace, name string) (obj *metav1.PartialObjectMetadata, monitored bool) {
	c.mu.RLock()
	m, ok := c.monitors[gr]
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	key := name
	if namespace != "" {
		key = namespace + "/" + name
	}
	item, exists, err := m.informer.GetStore().GetByKey(key)
	if err != nil || !exists {
		return nil, true
	}
	meta, _ := item.(*metav1.PartialObjectMetadata)
	return meta, true
}

// runDiscovery refreshes the monitors every interval until ctx ends.
func (c *Controller) runDiscovery(ctx context.Context) {
	t := time.NewTicker(c.cfg.DiscoveryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.resync(ctx); err != nil && ctx.Err() == nil {
				c.cfg.Logger.Warn("refreshing resources to collect", "err", err)
			}
		}
	}
}
