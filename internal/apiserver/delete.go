package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/storage"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/yaml"
)

// parseDeleteOptions reads DeleteOptions from the body (if any) and the
// query, as Kubernetes accepts both.
func (h *resourceHandler) parseDeleteOptions(r *http.Request) (metav1.DeleteOptions, error) {
	var opts metav1.DeleteOptions
	body, err := readBody(r)
	if err != nil {
		return opts, err
	}
	if len(body) > 0 {
		// DeleteOptions are accepted in any API version (clients send
		// "v1", "meta.k8s.io/v1" or the resource's own), as JSON or YAML.
		if isProtobuf(r.Header.Get("Content-Type")) {
			if _, _, err := h.s.dec.protobuf.Decode(body, nil, &opts); err != nil {
				return opts, apierrors.NewBadRequest(fmt.Sprintf("decoding DeleteOptions: %v", err))
			}
		} else if err := yaml.Unmarshal(body, &opts); err != nil {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("decoding DeleteOptions: %v", err))
		}
		if opts.Kind != "" && opts.Kind != "DeleteOptions" {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("the kind in the data (%s) does not match the expected kind (DeleteOptions)", opts.Kind))
		}
	}
	q := r.URL.Query()
	if v := q.Get("gracePeriodSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("invalid gracePeriodSeconds %q", v))
		}
		opts.GracePeriodSeconds = &n
	}
	if v := q.Get("propagationPolicy"); v != "" {
		p := metav1.DeletionPropagation(v)
		opts.PropagationPolicy = &p
	}
	if v := q.Get("orphanDependents"); v != "" {
		b := boolParam(v)
		opts.OrphanDependents = &b
	}
	if len(q["dryRun"]) > 0 {
		opts.DryRun = q["dryRun"]
	}
	if errs := metav1validation.ValidateDeleteOptions(&opts); len(errs) > 0 {
		return opts, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "DeleteOptions"}, "", errs)
	}
	if opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds < 0 {
		zero := int64(0)
		opts.GracePeriodSeconds = &zero
	}
	return opts, nil
}

func (h *resourceHandler) delete(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	opts, err := h.parseDeleteOptions(r)
	if err != nil {
		return err
	}
	obj, pending, err := h.deleteObject(ctx, info.Namespace, info.Name, opts)
	if err != nil {
		return err
	}
	if pending {
		return h.writeObject(w, r, http.StatusOK, out, obj)
	}
	m, _ := meta.Accessor(obj)
	writeJSON(w, http.StatusOK, output{yaml: out.yaml}, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Details:  &metav1.StatusDetails{Name: info.Name, Group: h.gr.Group, Kind: h.gr.Resource, UID: m.GetUID()},
	})
	return nil
}

// deleteObject deletes one object, or marks it for deletion when a grace
// period or finalizers hold it back (pending is then true and obj is the
// updated object).
func (h *resourceHandler) deleteObject(ctx context.Context, namespace, name string, opts metav1.DeleteOptions) (obj runtime.Object, pending bool, err error) {
	dryRun := len(opts.DryRun) > 0
	stored, err := h.store.Get(ctx, namespace, name)
	if err != nil {
		return nil, false, err
	}
	cur, err := h.served(stored)
	if err != nil {
		return nil, false, err
	}
	if err := checkPreconditions(h, name, cur, opts.Preconditions); err != nil {
		return nil, false, err
	}
	del := &Attributes{Verb: "delete", Namespace: namespace, Name: name, Old: cur, DryRun: dryRun}
	if err := h.admit(ctx, del); err != nil {
		return nil, false, err
	}
	grace := h.gracePeriod(cur, opts)
	addFinalizers := propagationFinalizers(opts)
	m, _ := meta.Accessor(cur)
	finalizers := sets.New(m.GetFinalizers()...)
	hold := grace > 0 || finalizers.Len() > 0 || !finalizers.IsSuperset(sets.New(addFinalizers...)) || namespaceHeld(cur)
	if hold {
		h.done(del, false)
		if dryRun {
			return cur, true, nil
		}
		updated, _, err := h.updateObject(ctx, nil, requestInfo{Namespace: namespace, Name: name}, subDelete, writeOptions{fieldManager: "skiff-apiserver"}, func(c runtime.Object) (runtime.Object, error) {
			if err := checkPreconditions(h, name, c, opts.Preconditions); err != nil {
				return nil, err
			}
			markDeleting(c, grace, addFinalizers)
			return c, nil
		}, true)
		if err != nil {
			return nil, false, err
		}
		return updated, true, nil
	}
	if dryRun {
		h.done(del, false)
		return cur, false, nil
	}
	_, err = h.store.Delete(ctx, namespace, name, func(c runtime.Object) error {
		sc, err := h.served(c)
		if err != nil {
			return err
		}
		return checkPreconditions(h, name, sc, opts.Preconditions)
	})
	h.done(del, err == nil)
	if err != nil {
		return nil, false, err
	}
	return cur, false, nil
}

// markDeleting sets the deletion timestamp (once) and adds finalizers. A
// grace period can only be shortened.
func markDeleting(obj runtime.Object, grace int64, add []string) {
	m, _ := meta.Accessor(obj)
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	if m.GetDeletionTimestamp() == nil {
		ts := metav1.NewTime(now.Add(time.Duration(grace) * time.Second))
		m.SetDeletionTimestamp(&ts)
		m.SetDeletionGracePeriodSeconds(&grace)
	} else if cur := m.GetDeletionGracePeriodSeconds(); cur != nil && grace < *cur {
		ts := metav1.NewTime(now.Add(time.Duration(grace) * time.Second))
		m.SetDeletionTimestamp(&ts)
		m.SetDeletionGracePeriodSeconds(&grace)
	}
	fin := m.GetFinalizers()
	for _, f := range add {
		if !sets.New(fin...).Has(f) {
			fin = append(fin, f)
		}
	}
	m.SetFinalizers(fin)
	if ns, ok := obj.(*corev1.Namespace); ok {
		ns.Status.Phase = corev1.NamespaceTerminating
	}
}

// namespaceHeld reports whether a namespace still has spec finalizers,
// which keep it (Terminating) until the namespace controller empties it.
func namespaceHeld(obj runtime.Object) bool {
	ns, ok := obj.(*corev1.Namespace)
	return ok && len(ns.Spec.Finalizers) > 0
}

// gracePeriod returns the grace period a deletion gets: only resources
// whose strategy asks for one (pods on a node) wait.
func (h *resourceHandler) gracePeriod(obj runtime.Object, opts metav1.DeleteOptions) int64 {
	gd, ok := h.res.Strategy.(registry.GracefulDeleter)
	if !ok {
		return 0
	}
	return gd.DeletionGracePeriod(obj, opts.GracePeriodSeconds)
}

// propagationFinalizers are the finalizers a deletion's propagation policy
// asks the garbage collector to honour.
func propagationFinalizers(opts metav1.DeleteOptions) []string {
	switch {
	case opts.PropagationPolicy != nil && *opts.PropagationPolicy == metav1.DeletePropagationForeground:
		return []string{metav1.FinalizerDeleteDependents}
	case opts.PropagationPolicy != nil && *opts.PropagationPolicy == metav1.DeletePropagationOrphan,
		opts.OrphanDependents != nil && *opts.OrphanDependents:
		return []string{metav1.FinalizerOrphanDependents}
	}
	return nil
}

func checkPreconditions(h *resourceHandler, name string, obj runtime.Object, p *metav1.Preconditions) error {
	if p == nil {
		return nil
	}
	m, _ := meta.Accessor(obj)
	if p.UID != nil && *p.UID != m.GetUID() {
		return apierrors.NewConflict(h.gr, name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
		return apierrors.NewConflict(h.gr, name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, m.GetResourceVersion()))
	}
	return nil
}

func (h *resourceHandler) deleteCollection(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	opts, err := h.parseDeleteOptions(r)
	if err != nil {
		return err
	}
	pred, err := h.selection(r.URL.Query())
	if err != nil {
		return err
	}
	res, err := h.store.List(ctx, listAll(info.Namespace, pred))
	if err != nil {
		return err
	}
	var deleted []runtime.Object
	for _, it := range res.Items {
		m, _ := meta.Accessor(it)
		obj, _, err := h.deleteObject(ctx, m.GetNamespace(), m.GetName(), opts)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		deleted = append(deleted, obj)
	}
	data, err := h.encodeList(metav1.ListMeta{}, deleted)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	writeBytes(w, http.StatusOK, out, data)
	return nil
}

func listAll(namespace string, pred storage.Predicate) storage.ListOptions {
	return storage.ListOptions{Namespace: namespace, Predicate: pred}
}

func noPredicate() storage.Predicate { return storage.Predicate{} }
