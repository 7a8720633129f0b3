package batch

import (
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var fixedNow = time.Date(2026, 10, 7, 9, 17, 26, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

const testUID = types.UID("6f0b1c9e-1111-4e2f-9c3a-000000000001")

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
		s = append(s, "  "+e.Error())
	}
	sort.Strings(s)
	return strings.Join(s, "\n")
}

func jobPodTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		DNSPolicy:     corev1.DNSClusterFirst,
		Containers:    []corev1.Container{{Name: "pi", Image: "perl:5.34", ImagePullPolicy: corev1.PullIfNotPresent, TerminationMessagePolicy: corev1.TerminationMessageReadFile}},
	}}
}

// createdJob is a job as the store hands it to Validate on create: with a
// UID, defaulted and prepared.
func createdJob(mutate func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default", UID: testUID},
		Spec:       batchv1.JobSpec{Template: jobPodTemplate()},
	}
	if mutate != nil {
		mutate(j)
	}
	s := jobStrategy{}
	s.Default(j)
	s.PrepareForCreate(j)
	return j
}

func jobCondition(t batchv1.JobConditionType) batchv1.JobCondition {
	return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue}
}
