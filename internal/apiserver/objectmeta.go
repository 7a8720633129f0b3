package apiserver

import (
	"crypto/rand"
	"reflect"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/skiff-io/skiff/internal/registry"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nameSuffixAlphabet avoids vowels and look-alike characters, as
// Kubernetes' generateName does.
const nameSuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func generateName(base string) string {
	const maxGeneratedNameLength = 58
	if len(base) > maxGeneratedNameLength {
		base = base[:maxGeneratedNameLength]
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = nameSuffixAlphabet[int(b[i])%len(nameSuffixAlphabet)]
	}
	return base + string(b)
}

// prepareCreateMeta sets the metadata the server owns on a new object.
func prepareCreateMeta(m metav1.Object, obj runtime.Object, now time.Time) {
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(generateName(m.GetGenerateName()))
	}
	m.SetUID(types.UID(uuid.NewString()))
	m.SetCreationTimestamp(metav1.NewTime(now))
	m.SetResourceVersion("")
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetSelfLink("")
	if hasSpec(obj) {
		m.SetGeneration(1)
	} else {
		m.SetGeneration(0)
	}
}

// prepareUpdateMeta keeps the metadata clients may not change. The
// generation starts from the stored one; bumpGeneration settles it once the
// strategy has run.
func prepareUpdateMeta(m, old metav1.Object) {
	if m.GetUID() == "" {
		m.SetUID(old.GetUID())
	}
	m.SetCreationTimestamp(old.GetCreationTimestamp())
	m.SetDeletionTimestamp(old.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(old.GetDeletionGracePeriodSeconds())
	m.SetSelfLink("")
	m.SetGeneration(old.GetGeneration())
}

// prepareUpdateMetaKeepGeneration is prepareUpdateMeta for the second pass
// after the strategy, which may have set the generation itself.
func prepareUpdateMetaKeepGeneration(m, old metav1.Object) {
	gen := m.GetGeneration()
	prepareUpdateMeta(m, old)
	m.SetGeneration(gen)
}

// bumpGeneration increments the generation when the spec changed, unless
// the strategy already bumped it for its own reasons (a Deployment's
// annotations, say).
func bumpGeneration(m, old metav1.Object, obj, oldObj runtime.Object) {
	if m.GetGeneration() > old.GetGeneration() {
		return
	}
	m.SetGeneration(old.GetGeneration())
	if hasSpec(obj) && !apiequality.Semantic.DeepEqual(specOf(obj), specOf(oldObj)) {
		m.SetGeneration(old.GetGeneration() + 1)
	}
}

// specFields caches, per Go type, the index of the top-level field whose
// changes bump metadata.generation.
var specFields sync.Map // reflect.Type -> int (-1 when absent)

func specIndex(obj runtime.Object) int {
	t := reflect.TypeOf(obj)
	if v, ok := specFields.Load(t); ok {
		return v.(int)
	}
	idx := -1
	if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		// PodTemplates carry their "spec" in a Template field.
		for _, name := range []string{"Spec", "Template"} {
			if f, ok := t.Elem().FieldByName(name); ok && len(f.Index) == 1 {
				idx = f.Index[0]
				break
			}
		}
	}
	specFields.Store(t, idx)
	return idx
}

func hasSpec(obj runtime.Object) bool { return specIndex(obj) >= 0 }

func specOf(obj runtime.Object) interface{} {
	i := specIndex(obj)
	if i < 0 {
		return nil
	}
	return reflect.ValueOf(obj).Elem().Field(i).Interface()
}

// validateMeta checks a new object's metadata.
func validateMeta(res *registry.Resource, m metav1.Object) field.ErrorList {
	nameFn := apivalidation.NameIsDNSSubdomain
	if res.ValidateName != nil {
		nameFn = res.ValidateName
	}
	return apivalidation.ValidateObjectMetaAccessor(m, res.Namespaced, nameFn, field.NewPath("metadata"))
}

// validateMetaUpdate checks a metadata update.
func validateMetaUpdate(res *registry.Resource, m, old metav1.Object) field.ErrorList {
	errs := apivalidation.ValidateObjectMetaAccessorUpdate(m, old, field.NewPath("metadata"))
	return append(errs, validateMeta(res, m)...)
}
