package apiserver

import (
	"context"
	"errors"
	"fmt"
	"github.com/skiff-io/skiff/internal/auth/user"
	"net/http"
	"strings"
	"time"

	"github.com/skiff-io/skiff/internal/registry"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fieldErrorList is a single Forbidden error at path.
func fieldErrorList(path, msg string) field.ErrorList {
	return field.ErrorList{field.Forbidden(field.NewPath(path), msg)}
}

// writeOptions are the query parameters every write takes.
type writeOptions struct {
	dryRun       bool
	fieldManager string
}

// parseWriteOptions reads and validates the options of a create, update
// or patch (pt is the patch type) as Kubernetes does: invalid options are
// a 422 for CreateOptions, UpdateOptions or PatchOptions.
func parseWriteOptions(r *http.Request, verb string, pt types.PatchType) (writeOptions, error) {
	q := r.URL.Query()
	o := writeOptions{dryRun: len(q["dryRun"]) > 0, fieldManager: q.Get("fieldManager")}
	var (
		kind string
		errs field.ErrorList
	)
	switch verb {
	case "create":
		kind = "CreateOptions"
		errs = metav1validation.ValidateCreateOptions(&metav1.CreateOptions{DryRun: q["dryRun"], FieldManager: o.fieldManager, FieldValidation: q.Get("fieldValidation")})
	case "patch":
		kind = "PatchOptions"
		opts := &metav1.PatchOptions{DryRun: q["dryRun"], FieldManager: o.fieldManager, FieldValidation: q.Get("fieldValidation")}
		if q.Has("force") {
			force := boolParam(q.Get("force"))
			opts.Force = &force
		}
		errs = metav1validation.ValidatePatchOptions(opts, pt)
	default:
		kind = "UpdateOptions"
		errs = metav1validation.ValidateUpdateOptions(&metav1.UpdateOptions{DryRun: q["dryRun"], FieldManager: o.fieldManager, FieldValidation: q.Get("fieldValidation")})
	}
	if len(errs) > 0 {
		return o, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: kind}, "", errs)
	}
	if o.fieldManager == "" {
		o.fieldManager = defaultManager(r.UserAgent())
	}
	return o, nil
}

// defaultManager derives a field manager from the user agent as Kubernetes
// does: the program name before the first "/".
func defaultManager(ua string) string {
	name, _, _ := strings.Cut(ua, "/")
	if len(name) > 128 {
		name = name[:128]
	}
	if name == "" {
		name = "unknown"
	}
	return name
}

func (h *resourceHandler) invalid(name string, errs field.ErrorList) error {
	return apierrors.NewInvalid(h.gvk.GroupKind(), name, errs)
}

// admit runs every admission plug-in; when one refuses, those that
// already admitted are told the write did not happen.
func (h *resourceHandler) admit(ctx context.Context, a *Attributes) error {
	a.Resource = h.res
	a.ctx = ctx
	if u, ok := user.From(ctx); ok {
		a.User = u
	}
	for i, adm := range h.s.cfg.Admission {
		if err := adm.Admit(a); err != nil {
			for _, prev := range h.s.cfg.Admission[:i] {
				prev.Done(a, false)
			}
			return err
		}
	}
	return nil
}

// done reports the outcome of an admitted write to every plug-in.
func (h *resourceHandler) done(a *Attributes, stored bool) {
	for _, adm := range h.s.cfg.Admission {
		adm.Done(a, stored)
	}
}

func (h *resourceHandler) create(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	opts, err := parseWriteOptions(r, "create", "")
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := h.s.dec.decodeBody(w, r, body, h.gvk, h.res.New())
	if err != nil {
		return err
	}
	created, err := h.createObject(ctx, w, info.Namespace, obj, opts, nil)
	if err != nil {
		return err
	}
	return h.writeObject(w, r, http.StatusCreated, out, created)
}

// createObject runs the create path for a decoded object of the served
// version and returns what was stored. managed, when set, are the
// managedFields to keep (server-side apply computed them already).
func (h *resourceHandler) createObject(ctx context.Context, w http.ResponseWriter, namespace string, obj runtime.Object, opts writeOptions, managed []metav1.ManagedFieldsEntry) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if h.res.Namespaced {
		if m.GetNamespace() == "" {
			m.SetNamespace(namespace)
		} else if m.GetNamespace() != namespace {
			return nil, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
	} else {
		m.SetNamespace("")
	}
	prepareCreateMeta(m, obj, time.Now().Truncate(time.Second))
	h.res.Strategy.Default(obj)
	h.res.Strategy.PrepareForCreate(obj)
	errs := validateMeta(h.res, m)
	errs = append(errs, h.res.Strategy.Validate(obj)...)
	if len(errs) > 0 {
		return nil, h.invalid(m.GetName(), errs)
	}
	h.warn(w, obj, nil)
	if managed != nil {
		m.SetManagedFields(managed)
	} else {
		obj = h.trackFields(nil, obj, opts.fieldManager, "")
	}
	a := &Attributes{Verb: "create", Namespace: m.GetNamespace(), Name: m.GetName(), Object: obj, DryRun: opts.dryRun}
	if err := h.admit(ctx, a); err != nil {
		return nil, err
	}
	for _, msg := range a.Warnings {
		addWarning(w, msg)
	}
	if opts.dryRun {
		h.done(a, false)
		return obj, nil
	}
	toStore, err := h.stored(obj)
	if err != nil {
		h.done(a, false)
		return nil, err
	}
	created, err := h.store.Create(ctx, m.GetNamespace(), m.GetName(), toStore)
	h.done(a, err == nil)
	if err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, apierrors.NewAlreadyExists(h.gr, m.GetName())
		}
		return nil, err
	}
	return h.served(created)
}

func (h *resourceHandler) update(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo, sub string) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	opts, err := parseWriteOptions(r, "update", "")
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := h.s.dec.decodeBody(w, r, body, h.gvk, h.res.New())
	if err != nil {
		return err
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	if m.GetName() != info.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), info.Name))
	}
	if h.res.Namespaced && m.GetNamespace() != "" && m.GetNamespace() != info.Namespace {
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	updated, code, err := h.updateObject(ctx, w, info, sub, opts, func(cur runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	}, false)
	if err != nil {
		return err
	}
	return h.writeObject(w, r, code, out, updated)
}

// transform computes an object's new state (served version) from its
// current state (served version, a copy the function may keep).
type transform func(current runtime.Object) (runtime.Object, error)

// updateObject runs the update path: read, transform, preserve server
// fields, default, validate, admit and write with optimistic concurrency.
// applied is true for server-side apply, whose managedFields are already
// computed. It returns the HTTP code to answer with.
func (h *resourceHandler) updateObject(ctx context.Context, w http.ResponseWriter, info requestInfo, sub string, opts writeOptions, fn transform, applied bool) (runtime.Object, int, error) {
	var (
		result   runtime.Object
		admitted *Attributes
		deleted  bool
		warnings []string
	)
	defer func() {
		if admitted != nil {
			h.done(admitted, result != nil && !opts.dryRun)
		}
	}()
	storedObj, err := h.store.Update(ctx, info.Namespace, info.Name, func(storedCur runtime.Object) (runtime.Object, error) {
		if admitted != nil {
			// A concurrent change forced a retry: start over.
			h.done(admitted, false)
			admitted = nil
		}
		// storedCur is the store's copy for this attempt; fn gets its own.
		cur, err := h.served(storedCur)
		if err != nil {
			return nil, err
		}
		obj, err := fn(cur.DeepCopyObject())
		if err != nil {
			return nil, err
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		old, _ := meta.Accessor(cur)
		if rv := m.GetResourceVersion(); rv != "" && rv != old.GetResourceVersion() {
			return nil, apierrors.NewConflict(h.gr, info.Name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		// An update without a resourceVersion is unconditional.
		m.SetResourceVersion(old.GetResourceVersion())
		if h.res.Namespaced && m.GetNamespace() == "" {
			m.SetNamespace(info.Namespace)
		}
		// What a deletion marks is kept aside: the metadata the server
		// owns is otherwise restored from old.
		deletion := &metav1.ObjectMeta{DeletionTimestamp: m.GetDeletionTimestamp(), DeletionGracePeriodSeconds: m.GetDeletionGracePeriodSeconds()}
		prepareUpdateMeta(m, old)
		if sub == subDelete {
			m.SetDeletionTimestamp(deletion.GetDeletionTimestamp())
			m.SetDeletionGracePeriodSeconds(deletion.GetDeletionGracePeriodSeconds())
		}
		h.res.Strategy.Default(obj)
		var validate func() field.ErrorList
		switch st, isSub := h.res.SubresourceStrategies[sub]; {
		case sub == "status":
			ss, ok := h.res.Strategy.(registry.StatusStrategy)
			if !ok {
				return nil, apierrors.NewMethodNotSupported(h.gr, "update status")
			}
			ss.PrepareForStatusUpdate(obj, cur)
			validate = func() field.ErrorList { return ss.ValidateStatusUpdate(obj, cur) }
		case isSub:
			st.PrepareForUpdate(obj, cur)
			validate = func() field.ErrorList { return st.ValidateUpdate(obj, cur) }
		case sub == subDelete:
		default:
			h.res.Strategy.PrepareForUpdate(obj, cur)
			validate = func() field.ErrorList { return h.res.Strategy.ValidateUpdate(obj, cur) }
		}
		// Strategies may copy whole objects from old: the server's
		// metadata wins again, except the deletion fields a deletion sets.
		m, _ = meta.Accessor(obj)
		prepareUpdateMetaKeepGeneration(m, old)
		if sub == subDelete {
			m.SetDeletionTimestamp(deletion.GetDeletionTimestamp())
			m.SetDeletionGracePeriodSeconds(deletion.GetDeletionGracePeriodSeconds())
		}
		bumpGeneration(m, old, obj, cur)
		var errs field.ErrorList
		if sub != subDelete {
			// A deletion mark changes only server-owned metadata.
			errs = append(validateMetaUpdate(h.res, m, old), validate()...)
		}
		if len(errs) > 0 {
			return nil, h.invalid(info.Name, errs)
		}
		if sub == "" && w != nil {
			warnings = h.warnings(obj, cur)
		}
		if !applied {
			obj = h.trackFields(cur, obj, opts.fieldManager, managedSubresource(sub))
			m, _ = meta.Accessor(obj)
		}
		a := &Attributes{Verb: "update", Subresource: sub, Namespace: info.Namespace, Name: info.Name, Object: obj, Old: cur, DryRun: opts.dryRun}
		if err := h.admit(ctx, a); err != nil {
			return nil, err
		}
		admitted = a
		if w != nil {
			for _, msg := range a.Warnings {
				addWarning(w, msg)
			}
		}
		// An object being deleted whose last finalizer was just removed
		// is deleted now.
		if m.GetDeletionTimestamp() != nil && len(m.GetFinalizers()) == 0 && !namespaceHeld(obj) &&
			m.GetDeletionGracePeriodSeconds() != nil && *m.GetDeletionGracePeriodSeconds() == 0 {
			deleted = true
		}
		if opts.dryRun {
			result = obj
			return nil, errDryRun
		}
		stored, err := h.stored(obj)
		if err != nil {
			return nil, err
		}
		result = obj
		return stored, nil
	})
	for _, msg := range warnings {
		addWarning(w, msg)
	}
	if err == errDryRun {
		return result, http.StatusOK, nil
	}
	if err != nil {
		result = nil
		return nil, 0, err
	}
	if deleted {
		if _, err := h.store.Delete(ctx, info.Namespace, info.Name, nil); err != nil && !apierrors.IsNotFound(err) {
			return nil, 0, err
		}
		h.done(&Attributes{Resource: h.res, Verb: "delete", Namespace: info.Namespace, Name: info.Name, Old: result}, true)
	}
	if result, err = h.served(storedObj); err != nil {
		return nil, 0, err
	}
	return result, http.StatusOK, nil
}

// subDelete is the internal subresource name of the update that marks an
// object for deletion: no strategy runs, only metadata and the namespace
// phase change.
const subDelete = "delete"

// errDryRun aborts a dry-run update after everything but the write.
var errDryRun = errors.New("dry run")

func (h *resourceHandler) patch(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo, sub string) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	pt := types.PatchType(strings.TrimSpace(ct))
	switch pt {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType:
	default:
		return unsupportedMediaType(string(pt), patchMediaTypes...)
	}
	opts, err := parseWriteOptions(r, "patch", pt)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	validation, err := fieldValidation(r)
	if err != nil {
		return err
	}
	if pt == types.ApplyYAMLPatchType {
		return h.apply(ctx, w, r, info, sub, out, opts, body)
	}
	strict := validation == metav1.FieldValidationStrict
	updated, code, err := h.updateObject(ctx, w, info, sub, opts, func(cur runtime.Object) (runtime.Object, error) {
		return h.s.cfg.FieldManager.Patch(cur, pt, body, strict)
	}, false)
	if err != nil {
		return err
	}
	return h.writeObject(w, r, code, out, updated)
}

// apply serves server-side apply: create when missing, else update.
func (h *resourceHandler) apply(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo, sub string, out output, opts writeOptions, body []byte) error {
	force := boolParam(r.URL.Query().Get("force"))
	_, err := h.store.GetCached(info.Namespace, info.Name)
	if apierrors.IsNotFound(err) {
		if _, gerr := h.store.Get(ctx, info.Namespace, info.Name); apierrors.IsNotFound(gerr) && sub == "" {
			obj, err := h.s.cfg.FieldManager.Apply(nil, h.gvk, body, opts.fieldManager, force, sub)
			if err != nil {
				return err
			}
			m, err := meta.Accessor(obj)
			if err != nil {
				return apierrors.NewBadRequest(err.Error())
			}
			if m.GetName() != info.Name {
				return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), info.Name))
			}
			created, err := h.createObject(ctx, w, info.Namespace, obj, opts, m.GetManagedFields())
			if err != nil {
				return err
			}
			return h.writeObject(w, r, http.StatusCreated, out, created)
		}
	}
	updated, code, err := h.updateObject(ctx, w, info, sub, opts, func(cur runtime.Object) (runtime.Object, error) {
		return h.s.cfg.FieldManager.Apply(cur, h.gvk, body, opts.fieldManager, force, sub)
	}, true)
	if err != nil {
		return err
	}
	return h.writeObject(w, r, code, out, updated)
}

// managedSubresource is the subresource managedFields record for a write.
func managedSubresource(sub string) string {
	if sub == subDelete || sub == "scale" {
		return ""
	}
	return sub
}

// trackFields records managedFields for a non-apply write. As in
// Kubernetes, failing to track ownership never fails the write.
func (h *resourceHandler) trackFields(live, obj runtime.Object, manager, sub string) runtime.Object {
	out, err := h.s.cfg.FieldManager.UpdateManagedFields(live, obj, h.gvk, manager, sub)
	if err != nil {
		h.s.log.Warn("tracking managed fields failed", "resource", h.gr.String(), "err", err)
	}
	if out == nil {
		return obj
	}
	return out
}

// warnings returns the strategy's warnings for obj (old is nil on create).
func (h *resourceHandler) warnings(obj, old runtime.Object) []string {
	if wr, ok := h.res.Strategy.(registry.Warner); ok {
		return wr.Warnings(obj, old)
	}
	return nil
}

// warn sends the strategy's warnings for obj as Warning headers.
func (h *resourceHandler) warn(w http.ResponseWriter, obj, old runtime.Object) {
	for _, msg := range h.warnings(obj, old) {
		addWarning(w, msg)
	}
}
