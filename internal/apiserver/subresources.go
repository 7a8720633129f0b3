package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var scaleGVK = autoscalingv1.SchemeGroupVersion.WithKind("Scale")

// toScale renders obj's scale subresource.
func (h *resourceHandler) toScale(obj runtime.Object) *autoscalingv1.Scale {
	m, _ := meta.Accessor(obj)
	spec, status, selector := h.res.Scale.Get(obj)
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()},
		Spec:   autoscalingv1.ScaleSpec{Replicas: spec},
		Status: autoscalingv1.ScaleStatus{Replicas: status, Selector: selector},
	}
}

func (h *resourceHandler) serveScale(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	if h.res.Scale == nil {
		notFound(w)
		return nil
	}
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	switch info.Verb {
	case "get":
		obj, err := h.store.Get(ctx, info.Namespace, info.Name)
		if err != nil {
			return err
		}
		if obj, err = h.served(obj); err != nil {
			return err
		}
		scale := h.toScale(obj)
		if out.kind == outTable {
			writeJSON(w, http.StatusOK, out, scaleTable(scale, out.tableGroupV))
			return nil
		}
		writeJSON(w, http.StatusOK, out, scale)
		return nil
	case "update", "patch":
	default:
		return methodNotAllowed(r.Method, h.gr.String()+"/scale")
	}
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	opts, err := parseWriteOptions(r, info.Verb, types.PatchType(strings.TrimSpace(ct)))
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var newScale func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error)
	if info.Verb == "update" {
		obj, err := h.s.dec.decodeBody(w, r, body, scaleGVK, &autoscalingv1.Scale{})
		if err != nil {
			return err
		}
		sc := obj.(*autoscalingv1.Scale)
		if sc.Name != info.Name {
			return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", sc.Name, info.Name))
		}
		newScale = func(*autoscalingv1.Scale) (*autoscalingv1.Scale, error) { return sc, nil }
	} else {
		ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
		pt := types.PatchType(strings.TrimSpace(ct))
		if pt != types.JSONPatchType && pt != types.MergePatchType && pt != types.StrategicMergePatchType {
			return unsupportedMediaType(string(pt), patchMediaTypes[:3]...)
		}
		newScale = func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
			p, err := h.s.cfg.FieldManager.Patch(cur, pt, body, false)
			if err != nil {
				return nil, err
			}
			return p.(*autoscalingv1.Scale), nil
		}
	}
	updated, _, err := h.updateObject(ctx, w, info, "scale", opts, func(cur runtime.Object) (runtime.Object, error) {
		sc, err := newScale(h.toScale(cur))
		if err != nil {
			return nil, err
		}
		curScale := h.toScale(cur)
		if sc.ResourceVersion != "" && sc.ResourceVersion != curScale.ResourceVersion {
			return nil, apierrors.NewConflict(h.gr, info.Name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		if sc.Spec.Replicas < 0 {
			return nil, apierrors.NewInvalid(scaleGVK.GroupKind(), info.Name, field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), sc.Spec.Replicas, "must be greater than or equal to 0")})
		}
		h.res.Scale.SetReplicas(cur, sc.Spec.Replicas)
		m, _ := meta.Accessor(cur)
		m.SetResourceVersion("")
		return cur, nil
	}, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out, h.toScale(updated))
	return nil
}

// serveSpecial serves subresources that are not plain views of the object.
func (h *resourceHandler) serveSpecial(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	key := h.gr.Resource + "/" + info.Subresource
	switch {
	case key == "pods/binding" && info.Verb == "create":
		return h.bind(ctx, w, r, info)
	case key == "pods/eviction" && info.Verb == "create":
		return h.evict(ctx, w, r, info)
	case key == "namespaces/finalize" && info.Verb == "update":
		return h.finalizeNamespace(ctx, w, r, info)
	}
	if name, subpath, _ := proxySubpath(info.Subresource); h.gr.Group == "" {
		if key := h.gr.Resource + "/" + name; agentSubresources[key] != nil {
			return h.s.agents.serve(w, r, key, info, subpath)
		}
	}
	return apierrors.NewMethodNotSupported(h.gr, info.Verb+" "+info.Subresource)
}

func successStatus(code int32) *metav1.Status {
	return &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: code}
}

// bind assigns a pod to a node (pods/binding), as the scheduler does.
func (h *resourceHandler) bind(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := h.s.dec.decodeBody(w, r, body, corev1.SchemeGroupVersion.WithKind("Binding"), &corev1.Binding{})
	if err != nil {
		return err
	}
	b := obj.(*corev1.Binding)
	if b.Name != "" && b.Name != info.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", b.Name, info.Name))
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), info.Name, field.ErrorList{field.NotSupported(field.NewPath("target", "kind"), b.Target.Kind, []string{"Node", ""})})
	}
	if b.Target.Name == "" {
		return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), info.Name, field.ErrorList{field.Required(field.NewPath("target", "name"), "")})
	}
	_, err = h.store.Update(ctx, info.Namespace, info.Name, func(cur runtime.Object) (runtime.Object, error) {
		pod := cur.(*corev1.Pod)
		if pod.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(h.gr, info.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", info.Name))
		}
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(h.gr, info.Name, fmt.Errorf("pod %s is already assigned to node %q", info.Name, pod.Spec.NodeName))
		}
		if b.UID != "" && b.UID != pod.UID {
			return nil, apierrors.NewConflict(h.gr, info.Name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", b.UID, pod.UID))
		}
		pod.Spec.NodeName = b.Target.Name
		for k, v := range b.Annotations {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
		setPodCondition(pod, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second))})
		return pod, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, output{}, successStatus(http.StatusCreated))
	return nil
}

func setPodCondition(pod *corev1.Pod, c corev1.PodCondition) {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == c.Type {
			if pod.Status.Conditions[i].Status != c.Status {
				pod.Status.Conditions[i] = c
			}
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}

// evict deletes a pod unless a PodDisruptionBudget forbids it.
func (h *resourceHandler) evict(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := h.s.dec.decodeBody(w, r, body, policyv1.SchemeGroupVersion.WithKind("Eviction"), &policyv1.Eviction{})
	if err != nil {
		return err
	}
	ev := obj.(*policyv1.Eviction)
	if ev.Name != "" && ev.Name != info.Name {
		return apierrors.NewBadRequest("name in URL does not match name in Eviction object")
	}
	adm := &Attributes{Verb: "create", Subresource: "eviction", Namespace: info.Namespace, Name: info.Name, Object: ev}
	if err := h.admit(ctx, adm); err != nil {
		return err
	}
	h.done(adm, false)
	podObj, err := h.store.Get(ctx, info.Namespace, info.Name)
	if err != nil {
		return err
	}
	pod := podObj.(*corev1.Pod)
	if pdbs, ok := h.s.handlers["policy/v1/poddisruptionbudgets"]; ok && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
		res, err := pdbs.store.List(ctx, listAll(info.Namespace, noPredicate()))
		if err != nil {
			return err
		}
		for _, it := range res.Items {
			pdb := it.(*policyv1.PodDisruptionBudget)
			sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
			if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
				continue
			}
			if pdb.Status.DisruptionsAllowed < 1 {
				err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
				err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
					Message: fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy)})
				return err
			}
		}
	}
	opts := metav1.DeleteOptions{}
	if ev.DeleteOptions != nil {
		opts = *ev.DeleteOptions
	}
	if _, _, err := h.deleteObject(ctx, info.Namespace, info.Name, opts); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, output{}, successStatus(http.StatusCreated))
	return nil
}

// finalizeNamespace replaces a namespace's spec.finalizers (namespaces/finalize).
func (h *resourceHandler) finalizeNamespace(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := h.s.dec.decodeBody(w, r, body, h.gvk, &corev1.Namespace{})
	if err != nil {
		return err
	}
	want := obj.(*corev1.Namespace)
	updated, err := h.store.Update(ctx, "", info.Name, func(cur runtime.Object) (runtime.Object, error) {
		ns := cur.(*corev1.Namespace)
		if want.ResourceVersion != "" && want.ResourceVersion != ns.ResourceVersion {
			return nil, apierrors.NewConflict(h.gr, info.Name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		ns.Spec.Finalizers = want.Spec.Finalizers
		if errs := validateFinalizers(ns); len(errs) > 0 {
			return nil, h.invalid(info.Name, errs)
		}
		return ns, nil
	})
	if err != nil {
		return err
	}
	ns := updated.(*corev1.Namespace)
	if ns.DeletionTimestamp != nil && len(ns.Spec.Finalizers) == 0 && len(ns.Finalizers) == 0 {
		if _, err := h.store.Delete(ctx, "", info.Name, nil); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return h.writeObject(w, r, http.StatusOK, out, ns)
}

// validateFinalizers checks spec.finalizers set through namespaces/finalize:
// each must be a qualified name, as Kubernetes requires.
func validateFinalizers(ns *corev1.Namespace) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "finalizers")
	for i, f := range ns.Spec.Finalizers {
		for _, msg := range validation.IsQualifiedName(string(f)) {
			errs = append(errs, field.Invalid(p.Index(i), string(f), msg))
		}
	}
	return errs
}

// scaleTable prints a Scale as `kubectl get --subresource=scale` shows it.
func scaleTable(sc *autoscalingv1.Scale, groupVersion string) *metav1.Table {
	age := "<unknown>"
	if !sc.CreationTimestamp.IsZero() {
		age = duration.HumanDuration(time.Since(sc.CreationTimestamp.Time))
	}
	raw, _ := json.Marshal(partialMetadata(sc))
	return &metav1.Table{
		TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: groupVersion},
		ColumnDefinitions: []metav1.TableColumnDefinition{
			{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
			{Name: "Desired", Type: "integer", Description: autoscalingv1.ScaleSpec{}.SwaggerDoc()["replicas"]},
			{Name: "Available", Type: "integer", Description: autoscalingv1.ScaleStatus{}.SwaggerDoc()["replicas"]},
			{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
		},
		Rows: []metav1.TableRow{{Cells: []interface{}{sc.Name, int64(sc.Spec.Replicas), int64(sc.Status.Replicas), age}, Object: runtime.RawExtension{Raw: raw}}},
	}
}
