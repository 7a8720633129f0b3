package patch

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// objectConvertor is the scheme as the field manager's converter. Same
// version conversions (the only ones the versioned types need) go to the
// scheme. Cross-version conversions, which the field manager attempts for
// managedFields entries recorded against another version, go to the
// optional fallback; when that is missing or fails, the conversion is
// reported as "not registered" so the field manager drops those entries
// instead of failing the request.
type objectConvertor struct {
	scheme   *runtime.Scheme
	fallback ConvertFunc
}

var _ runtime.ObjectConvertor = (*objectConvertor)(nil)

func (c *objectConvertor) Convert(in, out, context interface{}) error {
	return c.scheme.Convert(in, out, context)
}

func (c *objectConvertor) ConvertFieldLabel(gvk schema.GroupVersionKind, label, value string) (string, string, error) {
	return c.scheme.ConvertFieldLabel(gvk, label, value)
}

func (c *objectConvertor) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	from := in.GetObjectKind().GroupVersionKind()
	if from.Empty() {
		kinds, _, err := c.scheme.ObjectKinds(in)
		if err != nil {
			return nil, err
		}
		from = kinds[0]
	}
	to, ok := target.KindForGroupVersionKinds([]schema.GroupVersionKind{from})
	if ok && to == from {
		return c.scheme.ConvertToVersion(in, target)
	}
	out, err := c.scheme.ConvertToVersion(in, target)
	if err == nil || runtime.IsNotRegisteredError(err) {
		return out, err
	}
	if gv, isGV := target.(schema.GroupVersion); isGV && c.fallback != nil {
		// Hand the fallback a typed object even when the field manager
		// passes unstructured content.
		typed, terr := c.scheme.ConvertToVersion(in, from.GroupVersion())
		if terr == nil {
			if converted, ferr := c.fallback(typed, gv); ferr == nil {
				converted.GetObjectKind().SetGroupVersionKind(gv.WithKind(from.Kind))
				return converted, nil
			}
		}
	}
	return nil, runtime.NewNotRegisteredErrForTarget(c.scheme.Name(), reflect.TypeOf(in), target)
}
