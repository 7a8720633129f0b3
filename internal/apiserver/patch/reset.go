package patch

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// resetFields returns the fields a write through subresource may not
// change, as a filter over field sets: ownership of those fields is neither
// taken nor recorded by that write (the strategies reset their values).
// The main resource may not write status; a subresource may write only
// the part of the object it exposes. Unknown subresources are unfiltered.
func resetFields(gv schema.GroupVersion, subresource string) map[fieldpath.APIVersion]fieldpath.Filter {
	var filter fieldpath.Filter
	switch subresource {
	case "":
		filter = fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie("status")))
	case "status":
		filter = fieldpath.NewIncludeMatcherFilter(fieldpath.MakePrefixMatcherOrDie("status"))
	case "scale":
		// The scale subresource is recorded against the parent object,
		// where it owns only the desired replica count.
		filter = fieldpath.NewIncludeMatcherFilter(fieldpath.MakePrefixMatcherOrDie("spec", "replicas"))
	case "ephemeralcontainers":
		filter = fieldpath.NewIncludeMatcherFilter(fieldpath.MakePrefixMatcherOrDie("spec", "ephemeralContainers"))
	case "resize":
		anyElem := fieldpath.MatchAnyPathElement()
		filter = fieldpath.NewIncludeMatcherFilter(
			fieldpath.MakePrefixMatcherOrDie("spec", "containers", anyElem, "resources"),
			fieldpath.MakePrefixMatcherOrDie("spec", "containers", anyElem, "resizePolicy"),
			fieldpath.MakePrefixMatcherOrDie("spec", "initContainers", anyElem, "resources"),
			fieldpath.MakePrefixMatcherOrDie("spec", "initContainers", anyElem, "resizePolicy"),
		)
	case "approval":
		filter = fieldpath.NewIncludeMatcherFilter(fieldpath.MakePrefixMatcherOrDie("status", "conditions"))
	case "finalize":
		filter = fieldpath.NewIncludeMatcherFilter(fieldpath.MakePrefixMatcherOrDie("spec", "finalizers"))
	default:
		return nil
	}
	return map[fieldpath.APIVersion]fieldpath.Filter{fieldpath.APIVersion(gv.String()): filter}
}
