package core

import (
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// commonErrKeys summarises errors as sorted "Type path" strings, e.g.
// "FieldValueRequired spec.ports", so tests can compare whole lists.
func commonErrKeys(errs field.ErrorList) []string {
	keys := make([]string, 0, len(errs))
	for _, e := range errs {
		keys = append(keys, string(e.Type)+" "+e.Field)
	}
	sort.Strings(keys)
	return keys
}

// commonExpectErrs fails t unless errs has exactly the wanted keys (in any
// order).
func commonExpectErrs(t *testing.T, errs field.ErrorList, want ...string) {
	t.Helper()
	got := commonErrKeys(errs)
	sorted := append([]string(nil), want...)
	sort.Strings(sorted)
	if strings.Join(got, "\n") != strings.Join(sorted, "\n") {
		t.Errorf("errors:\n got %q\nwant %q\nfull: %v", got, sorted, errs.ToAggregate())
	}
}

// commonExpectErrText fails t unless some error's full text contains sub.
func commonExpectErrText(t *testing.T, errs field.ErrorList, sub string) {
	t.Helper()
	for _, e := range errs {
		if strings.Contains(e.Error(), sub) {
			return
		}
	}
	t.Errorf("no error contains %q; got %v", sub, errs.ToAggregate())
}

// commonCheckTable verifies a table convertor's columns and that a row has
// one cell per column.
func commonCheckTable(t *testing.T, s registry.Strategy, wantCols []string, row []interface{}) {
	t.Helper()
	tc, ok := s.(registry.TableConvertor)
	if !ok {
		t.Fatalf("%T is not a TableConvertor", s)
	}
	cols := tc.TableColumns()
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
		if c.Description == "" || c.Type == "" {
			t.Errorf("column %q lacks type or description", c.Name)
		}
	}
	if strings.Join(names, ",") != strings.Join(wantCols, ",") {
		t.Errorf("columns = %v, want %v", names, wantCols)
	}
	if cols[0].Name == "Name" && cols[0].Format != "name" {
		t.Errorf("Name column format = %q", cols[0].Format)
	}
	if len(row) != len(cols) {
		t.Errorf("row has %d cells for %d columns: %v", len(row), len(cols), row)
	}
}

func TestCommonAge(t *testing.T) {
	cases := []struct {
		in   metav1.Time
		want string
	}{
		{metav1.Time{}, "<unknown>"},
		{metav1.NewTime(time.Now().Add(-90 * time.Second)), "90s"},
		{metav1.NewTime(time.Now().Add(-3 * time.Hour)), "3h"},
	}
	for _, c := range cases {
		if got := commonAge(c.in); got != c.want {
			t.Errorf("commonAge(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCommonAccessModes(t *testing.T) {
	cases := []struct {
		in   []corev1.PersistentVolumeAccessMode
		want string
	}{
		{nil, ""},
		{[]corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany, corev1.ReadWriteOnce, corev1.ReadWriteOnce}, "RWO,RWX"},
		{[]corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}, "RWOP"},
		{[]corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany, corev1.ReadWriteOnce}, "RWO,ROX"},
	}
	for _, c := range cases {
		if got := commonAccessModes(c.in); got != c.want {
			t.Errorf("commonAccessModes(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCommonFinalizerName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"kubernetes", true},
		{"example.com/cleanup", true},
		{"cleanup", false},
		{"bad name/x", false},
	}
	for _, c := range cases {
		errs := commonFinalizerName(c.name, field.NewPath("f"))
		if (len(errs) == 0) != c.ok {
			t.Errorf("commonFinalizerName(%q) = %v, want ok=%v", c.name, errs, c.ok)
		}
	}
}

func TestCommonPathSegmentName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"pod.17abc", true},
		{"UPPER_case", true},
		{"..", false},
		{"a/b", false},
		{"a%b", false},
	}
	for _, c := range cases {
		if got := commonPathSegmentName(c.name, false); (len(got) == 0) != c.ok {
			t.Errorf("commonPathSegmentName(%q) = %v, want ok=%v", c.name, got, c.ok)
		}
	}
}

func TestCommonIsIntegerResource(t *testing.T) {
	cases := []struct {
		name corev1.ResourceName
		want bool
	}{
		{"pods", true},
		{"count/deployments.apps", true},
		{"example.com/gpu", true},
		{"cpu", false},
		{"requests.memory", false},
		{"requests.example.com/gpu", false},
	}
	for _, c := range cases {
		if got := commonIsIntegerResource(c.name); got != c.want {
			t.Errorf("commonIsIntegerResource(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCommonNonSpecialIP(t *testing.T) {
	cases := []struct {
		ip string
		ok bool
	}{
		{"10.1.2.3", true},
		{"0.0.0.0", false},
		{"127.0.0.1", false},
		{"169.254.1.1", false},
		{"fe80::1", false},
		{"nope", false},
	}
	for _, c := range cases {
		if errs := commonNonSpecialIP(c.ip, field.NewPath("ip")); (len(errs) == 0) != c.ok {
			t.Errorf("commonNonSpecialIP(%q) = %v, want ok=%v", c.ip, errs, c.ok)
		}
	}
}
