package apps

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fixedNow is the instant table tests print ages against.
var fixedNow = time.Date(2026, 10, 7, 9, 17, 26, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

// wantErr describes one expected validation error: its field path, type and
// a fragment of its detail ("" matches any detail).
type wantErr struct {
	field  string
	typ    field.ErrorType
	detail string
}

// checkErrs fails unless errs holds exactly the wanted errors, in any order.
func checkErrs(t *testing.T, errs field.ErrorList, want []wantErr) {
	t.Helper()
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(want), errList(errs))
	}
	used := make([]bool, len(errs))
	for _, w := range want {
		found := false
		for i, e := range errs {
			if used[i] || e.Field != w.field || e.Type != w.typ || !strings.Contains(e.Detail, w.detail) {
				continue
			}
			used[i], found = true, true
			break
		}
		if !found {
			t.Errorf("missing error %s %s %q in:\n%s", w.field, w.typ, w.detail, errList(errs))
		}
	}
}

func errList(errs field.ErrorList) string {
	var s []string
	for _, e := range errs {
		s = append(s, fmt.Sprintf("  %s", e.Error()))
	}
	sort.Strings(s)
	return strings.Join(s, "\n")
}

// podTemplate is a template the stand-alone checks accept: labelled, one
// container, restartPolicy Always.
func podTemplate(lbls map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: lbls},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyAlways,
			DNSPolicy:     corev1.DNSClusterFirst,
			Containers:    []corev1.Container{{Name: "web", Image: "nginx:1.27", ImagePullPolicy: corev1.PullIfNotPresent, TerminationMessagePolicy: corev1.TerminationMessageReadFile}},
		},
	}
}

func appLabels() map[string]string { return map[string]string{"app": "web"} }

func appSelector() *metav1.LabelSelector { return &metav1.LabelSelector{MatchLabels: appLabels()} }
