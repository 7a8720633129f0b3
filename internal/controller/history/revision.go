// Package history holds what the DaemonSet and StatefulSet controllers
// share: ControllerRevisions (the immutable snapshots of a workload's pod
// template that `kubectl rollout history` lists and `kubectl rollout undo`
// re-applies), the controller-reference bookkeeping for adopting and
// releasing dependents, and expectations for writes the informer cache has
// not shown yet.
package history

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
)

// HashLabel is the label carrying a revision's hash, on the revision and
// on the pods made from it.
const HashLabel = appsv1.ControllerRevisionHashLabelKey

// maxPrefixLen keeps "<prefix>-<hash>" within the 253 characters of an
// object name.
const maxPrefixLen = 223

// TemplatePatch returns the data a revision of a workload stores: a
// strategic merge patch {"spec":{"template":{...,"$patch":"replace"}}}
// that replaces the workload's pod template, the form kubectl applies on
// `rollout undo` and compares on `rollout history`. obj is a DaemonSet or
// StatefulSet (anything whose JSON has spec.template). Keys are sorted, so
// equal templates give equal bytes.
func TemplatePatch(obj runtime.Object) ([]byte, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", obj, err)
	}
	var doc struct {
		Spec struct {
			Template map[string]interface{} `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decoding %T: %w", obj, err)
	}
	if doc.Spec.Template == nil {
		return nil, fmt.Errorf("%T has no spec.template", obj)
	}
	doc.Spec.Template["$patch"] = "replace"
	patch := map[string]interface{}{"spec": map[string]interface{}{"template": doc.Spec.Template}}
	return json.Marshal(patch)
}

// Template decodes the pod template a revision made by TemplatePatch
// carries.
func Template(rev *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	raw := rev.Data.Raw
	if raw == nil && rev.Data.Object != nil {
		var err error
		if raw, err = json.Marshal(rev.Data.Object); err != nil {
			return nil, fmt.Errorf("revision %s: %w", rev.Name, err)
		}
	}
	var doc struct {
		Spec struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev.Name, err)
	}
	if doc.Spec.Template == nil {
		return nil, fmt.Errorf("revision %s has no spec.template", rev.Name)
	}
	return doc.Spec.Template, nil
}

// Hash is the label-safe hash of revision data and the owner's collision
// count (bumped when two templates' hashes collide).
func Hash(data []byte, collisionCount *int32) string {
	h := fnv.New32a()
	h.Write(data)
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// Name is the name of a revision of the owner called prefix.
func Name(prefix, hash string) string {
	if len(prefix) > maxPrefixLen {
		prefix = prefix[:maxPrefixLen]
	}
	return prefix + "-" + hash
}

// New returns the revision of owner (of kind gvk) holding data, named and
// labelled by its hash, carrying the template's labels and the owner's
// annotations (kubectl reads kubernetes.io/change-cause from them).
func New(owner metav1.Object, gvk schema.GroupVersionKind, templateLabels map[string]string, data []byte, revision int64, collisionCount *int32) *appsv1.ControllerRevision {
	hash := Hash(data, collisionCount)
	labels := make(map[string]string, len(templateLabels)+1)
	for k, v := range templateLabels {
		labels[k] = v
	}
	labels[HashLabel] = hash
	var annotations map[string]string
	if a := owner.GetAnnotations(); len(a) > 0 {
		annotations = make(map[string]string, len(a))
		for k, v := range a {
			annotations[k] = v
		}
	}
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            Name(owner.GetName(), hash),
			Namespace:       owner.GetNamespace(),
			Labels:          labels,
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(owner, gvk)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: revision,
	}
}

// Equal reports whether two revisions hold the same template: the same
// data (compared as JSON values, since the API server may re-encode it).
func Equal(a, b *appsv1.ControllerRevision) bool {
	if a == nil || b == nil {
		return a == b
	}
	return sameJSON(a.Data, b.Data)
}

func sameJSON(a, b runtime.RawExtension) bool {
	decode := func(r runtime.RawExtension) (interface{}, bool) {
		raw := r.Raw
		if raw == nil && r.Object != nil {
			var err error
			if raw, err = json.Marshal(r.Object); err != nil {
				return nil, false
			}
		}
		var v interface{}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, false
		}
		return v, true
	}
	va, ok1 := decode(a)
	vb, ok2 := decode(b)
	return ok1 && ok2 && reflect.DeepEqual(va, vb)
}

// Sort orders revisions oldest first: by revision number, then creation
// time, then name.
func Sort(revs []*appsv1.ControllerRevision) {
	sort.SliceStable(revs, func(i, j int) bool {
		a, b := revs[i], revs[j]
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// NextRevision is the revision number a new snapshot takes: one more than
// the highest in revs.
func NextRevision(revs []*appsv1.ControllerRevision) int64 {
	var max int64
	for _, r := range revs {
		if r.Revision > max {
			max = r.Revision
		}
	}
	return max + 1
}

// Choice is what to do to record the current template.
type Choice struct {
	// Existing is a revision already holding the template, or nil when
	// one must be created.
	Existing *appsv1.ControllerRevision
	// Renumber is true when Existing is not the newest revision (a
	// rollback) and must take the next revision number.
	Renumber bool
}

// Choose decides how to record want (a revision built by New) among the
// owner's revisions revs, sorted by Sort.
func Choose(revs []*appsv1.ControllerRevision, want *appsv1.ControllerRevision) Choice {
	var match *appsv1.ControllerRevision
	for _, r := range revs {
		if Equal(r, want) {
			match = r
		}
	}
	if match == nil {
		return Choice{}
	}
	return Choice{Existing: match, Renumber: match != revs[len(revs)-1]}
}

// Prune returns the revisions to delete so that at most limit revisions
// not in use remain, oldest first; revs must be sorted by Sort and live
// reports the revisions still in use (current, update, or a pod's).
func Prune(revs []*appsv1.ControllerRevision, live func(*appsv1.ControllerRevision) bool, limit int) []*appsv1.ControllerRevision {
	if limit < 0 {
		limit = 0
	}
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if !live(r) {
			old = append(old, r)
		}
	}
	if len(old) <= limit {
		return nil
	}
	return old[:len(old)-limit]
}
