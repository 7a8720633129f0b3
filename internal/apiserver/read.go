package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/skiff-io/skiff/internal/storage"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kprotobuf "k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"
)

func (h *resourceHandler) get(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	var obj runtime.Object
	if rv := r.URL.Query().Get("resourceVersion"); rv == "0" {
		obj, err = h.store.GetCached(info.Namespace, info.Name)
	} else {
		obj, err = h.store.Get(ctx, info.Namespace, info.Name)
	}
	if err != nil {
		return err
	}
	if obj, err = h.served(obj); err != nil {
		return err
	}
	return h.writeObject(w, r, http.StatusOK, out, obj)
}

// writeObject writes one object in the negotiated form.
func (h *resourceHandler) writeObject(w http.ResponseWriter, r *http.Request, code int, out output, obj runtime.Object) error {
	switch out.kind {
	case outTable:
		include, err := parseIncludeObject(r.URL.Query().Get("includeObject"))
		if err != nil {
			return err
		}
		t, err := toTable(h.res, []runtime.Object{obj}, nil, out.tableGroupV, include, true)
		if err != nil {
			return apierrors.NewInternalError(err)
		}
		writeJSON(w, code, out, t)
	case outMetadata:
		writeJSON(w, code, out, partialMetadata(obj))
	default:
		writeJSON(w, code, out, obj)
	}
	return nil
}

// selection parses labelSelector and fieldSelector.
func (h *resourceHandler) selection(q url.Values) (storage.Predicate, error) {
	p := storage.Predicate{Fields: h.fieldsOf}
	if s := q.Get("labelSelector"); s != "" {
		sel, err := labels.Parse(s)
		if err != nil {
			return p, apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
		}
		p.Label = sel
	}
	if s := q.Get("fieldSelector"); s != "" {
		sel, err := fields.ParseSelector(s)
		if err != nil {
			return p, apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
		}
		for _, req := range sel.Requirements() {
			if !h.supportedField(req.Field) {
				return p, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
			}
		}
		p.Field = sel
	}
	return p, nil
}

func (h *resourceHandler) list(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Has("sendInitialEvents") {
		return apierrors.NewInvalid(listOptionsKind, "", field.ErrorList{field.Forbidden(field.NewPath("sendInitialEvents"), "sendInitialEvents is forbidden for list")})
	}
	pred, err := h.selection(q)
	if err != nil {
		return err
	}
	opts := storage.ListOptions{
		Namespace:            info.Namespace,
		Predicate:            pred,
		ResourceVersion:      q.Get("resourceVersion"),
		ResourceVersionMatch: metav1.ResourceVersionMatch(q.Get("resourceVersionMatch")),
		Continue:             q.Get("continue"),
	}
	if l := q.Get("limit"); l != "" {
		if opts.Limit, err = strconv.ParseInt(l, 10, 64); err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid limit %q", l))
		}
	}
	res, err := h.store.List(ctx, opts)
	if err != nil {
		return err
	}
	items := res.Items
	if h.conv != nil {
		items = make([]runtime.Object, 0, len(res.Items))
		for _, it := range res.Items {
			c, err := h.served(it)
			if err != nil {
				return err
			}
			items = append(items, c)
		}
	}
	lm := metav1.ListMeta{ResourceVersion: storage.FormatResourceVersion(res.ResourceVersion), Continue: res.Continue, RemainingItemCount: res.RemainingItemCount}
	switch out.kind {
	case outTable:
		include, err := parseIncludeObject(q.Get("includeObject"))
		if err != nil {
			return err
		}
		t, err := toTable(h.res, items, &lm, out.tableGroupV, include, true)
		if err != nil {
			return apierrors.NewInternalError(err)
		}
		writeJSON(w, http.StatusOK, out, t)
		return nil
	case outMetadata:
		pl := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadataList", APIVersion: "meta.k8s.io/v1"}, ListMeta: lm}
		for _, it := range items {
			pl.Items = append(pl.Items, *partialMetadata(it))
		}
		writeJSON(w, http.StatusOK, out, pl)
		return nil
	}
	if out.protobuf {
		list := h.res.NewList()
		list.GetObjectKind().SetGroupVersionKind(h.gvk.GroupVersion().WithKind(h.gvk.Kind + "List"))
		if err := meta.SetList(list, items); err != nil {
			return apierrors.NewInternalError(err)
		}
		if la, err := meta.ListAccessor(list); err == nil {
			la.SetResourceVersion(lm.ResourceVersion)
			la.SetContinue(lm.Continue)
			la.SetRemainingItemCount(lm.RemainingItemCount)
		}
		writeProtobuf(w, http.StatusOK, list)
		return nil
	}
	data, err := h.encodeList(lm, items)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	writeBytes(w, http.StatusOK, out, data)
	return nil
}

// encodeList writes a typed list without building the list object: the
// items are shared cache objects that must not be modified or copied.
func (h *resourceHandler) encodeList(lm metav1.ListMeta, items []runtime.Object) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(256 + len(items)*1024)
	metaJSON, err := json.Marshal(lm)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&buf, `{"kind":%q,"apiVersion":%q,"metadata":%s,"items":[`, h.gvk.Kind+"List", h.gvk.GroupVersion().String(), metaJSON)
	enc := json.NewEncoder(&buf)
	for i, it := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(it); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteString("]}")
	return buf.Bytes(), nil
}

func (h *resourceHandler) watch(ctx context.Context, w http.ResponseWriter, r *http.Request, info requestInfo) error {
	out, err := negotiate(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	pred, err := h.selection(q)
	if err != nil {
		return err
	}
	if info.Name != "" {
		// GET .../name?watch=true watches one object.
		nameSel := fields.OneTermEqualSelector("metadata.name", info.Name)
		if pred.Field != nil {
			nameSel = fields.AndSelectors(pred.Field, nameSel)
		}
		pred.Field = nameSel
	}
	bookmarks := boolParam(q.Get("allowWatchBookmarks"))
	sendInitial := false
	if v := q.Get("sendInitialEvents"); v != "" {
		sendInitial = boolParam(v)
		if q.Get("resourceVersionMatch") != string(metav1.ResourceVersionMatchNotOlderThan) {
			return apierrors.NewInvalid(listOptionsKind, "", fieldErrorList("sendInitialEvents", "sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan"))
		}
		if sendInitial && !bookmarks {
			return apierrors.NewInvalid(listOptionsKind, "", fieldErrorList("allowWatchBookmarks", "allowWatchBookmarks must be true when sendInitialEvents is true"))
		}
	} else if m := q.Get("resourceVersionMatch"); m != "" {
		return apierrors.NewInvalid(listOptionsKind, "", fieldErrorList("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
	}
	timeout := time.Duration(1800+rand.IntN(1800)) * time.Second
	if t := q.Get("timeoutSeconds"); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n < 0 {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid timeoutSeconds %q", t))
		}
		if n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	events, err := h.store.Watch(ctx, storage.WatchOptions{Namespace: info.Namespace, Predicate: pred,
		ResourceVersion: q.Get("resourceVersion"), SendInitialEvents: sendInitial, Bookmarks: bookmarks, Deadline: deadline})
	if err != nil {
		return err
	}
	flusher, _ := w.(http.Flusher)
	enc := newWatchEncoder(w, out)
	w.Header().Set("Content-Type", enc.contentType())
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	first := true
	write := func(typ watch.EventType, obj runtime.Object) bool {
		if err := enc.encode(typ, obj); err != nil {
			return false
		}
		// Flush once the burst is written, not after every event.
		if flusher != nil && len(events) == 0 {
			flusher.Flush()
		}
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			switch {
			case ev.Type == watch.Error:
				st := toStatus(ev.Err)
				st.Kind, st.APIVersion = "Status", "v1"
				write(watch.Error, st)
				return nil
			case ev.Type == watch.Bookmark:
				if bookmarks && !write(watch.Bookmark, h.bookmark(ev.Revision, ev.InitialEventsEnd)) {
					return nil
				}
				continue
			}
			obj, err := h.served(ev.Object)
			if err != nil {
				continue
			}
			var payload runtime.Object = obj
			switch out.kind {
			case outTable:
				t, err := toTable(h.res, []runtime.Object{obj}, &metav1.ListMeta{}, out.tableGroupV, includeMetadata, first)
				if err != nil {
					continue
				}
				first = false
				payload = t
			case outMetadata:
				payload = partialMetadata(obj)
			}
			if !write(ev.Type, payload) {
				return nil
			}
		}
	}
}

// listOptionsKind names ListOptions in validation errors.
var listOptionsKind = metav1.SchemeGroupVersion.WithKind("ListOptions").GroupKind()

// watchEncoder writes watch events in the negotiated wire format.
type watchEncoder interface {
	contentType() string
	encode(typ watch.EventType, obj runtime.Object) error
}

// newWatchEncoder streams protobuf to clients that accept it (client-go's
// typed clients do) for objects and metadata, and JSON otherwise: tables
// have no protobuf form.
func newWatchEncoder(w io.Writer, out output) watchEncoder {
	if out.protobuf && out.kind != outTable {
		return &protoWatchEncoder{frames: kprotobuf.LengthDelimitedFramer.NewFrameWriter(w)}
	}
	return jsonWatchEncoder{json.NewEncoder(w)}
}

// jsonWatchEncoder writes one JSON watch event per line.
type jsonWatchEncoder struct{ enc *json.Encoder }

// watchEvent is the JSON form of a watch event.
type watchEvent struct {
	Type   watch.EventType `json:"type"`
	Object runtime.Object  `json:"object"`
}

func (jsonWatchEncoder) contentType() string { return "application/json" }

func (e jsonWatchEncoder) encode(typ watch.EventType, obj runtime.Object) error {
	return e.enc.Encode(watchEvent{Type: typ, Object: obj})
}

// protoWatchEncoder writes length-delimited metav1.WatchEvent frames whose
// object is in Kubernetes' protobuf envelope, as kube-apiserver does.
type protoWatchEncoder struct {
	frames io.Writer
	obj    bytes.Buffer
}

func (*protoWatchEncoder) contentType() string { return protobufType + ";stream=watch" }

func (e *protoWatchEncoder) encode(typ watch.EventType, obj runtime.Object) error {
	e.obj.Reset()
	if err := protoEncoder.Encode(obj, &e.obj); err != nil {
		return err
	}
	ev := metav1.WatchEvent{Type: string(typ), Object: runtime.RawExtension{Raw: e.obj.Bytes()}}
	data, err := ev.Marshal()
	if err != nil {
		return err
	}
	_, err = e.frames.Write(data)
	return err
}

// bookmark returns a bookmark object: an empty object of the resource's
// kind carrying only a resourceVersion.
func (h *resourceHandler) bookmark(rev int64, initialEnd bool) runtime.Object {
	obj := h.res.New()
	obj.GetObjectKind().SetGroupVersionKind(h.gvk)
	if m, ok := obj.(metav1.Object); ok {
		m.SetResourceVersion(storage.FormatResourceVersion(rev))
		if initialEnd {
			m.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
		}
	}
	return obj
}
