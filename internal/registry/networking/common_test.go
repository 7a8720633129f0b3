package networking

import (
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fixedNow is the clock of every strategy under test, so ages are exact.
var fixedNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

func createdAgo(d time.Duration) metav1.Time { return metav1.NewTime(fixedNow.Add(-d)) }

// errKeys renders errors as "Type field" (e.g. "FieldValueRequired
// spec.rules[0].http.paths[0].pathType"), sorted, for comparison.
func errKeys(errs field.ErrorList) []string {
	keys := make([]string, 0, len(errs))
	for _, e := range errs {
		keys = append(keys, string(e.Type)+" "+e.Field)
	}
	sort.Strings(keys)
	return keys
}

func checkErrs(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := errKeys(errs)
	w := append([]string(nil), want...)
	sort.Strings(w)
	if strings.Join(got, "\n") != strings.Join(w, "\n") {
		t.Errorf("errors mismatch\n got: %q\nwant: %q\nfull: %v", got, w, errs.ToAggregate())
	}
}

// checkDetail asserts that some error on fld mentions detail.
func checkDetail(t *testing.T, errs field.ErrorList, fld, detail string) {
	t.Helper()
	for _, e := range errs {
		if e.Field == fld && strings.Contains(e.Error(), detail) {
			return
		}
	}
	t.Errorf("no error on %s mentioning %q in %v", fld, detail, errs.ToAggregate())
}

// wantField extracts the field path from an errKeys entry.
func wantField(key string) string {
	return key[strings.Index(key, " ")+1:]
}

const (
	required     = string(field.ErrorTypeRequired) + " "
	invalid      = string(field.ErrorTypeInvalid) + " "
	notSupported = string(field.ErrorTypeNotSupported) + " "
	forbidden    = string(field.ErrorTypeForbidden) + " "
	tooLong      = string(field.ErrorTypeTooLong) + " "
)
