package batch

import (
	"reflect"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

func validCronJob() *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: "default"},
		Spec: batchv1.CronJobSpec{
			Schedule:    "0 3 * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: jobPodTemplate()}},
		},
	}
	cronJobStrategy{}.Default(cj)
	return cj
}

func TestCronJobDefault(t *testing.T) {
	cj := validCronJob()
	s := cj.Spec
	if s.ConcurrencyPolicy != batchv1.AllowConcurrent || *s.Suspend || *s.SuccessfulJobsHistoryLimit != 3 || *s.FailedJobsHistoryLimit != 1 {
		t.Fatalf("defaults %+v", s)
	}
	if js := s.JobTemplate.Spec; js.BackoffLimit != nil || js.Completions != nil || js.ManualSelector != nil {
		t.Fatalf("job defaults leaked into the template: %+v", js)
	}
	kept := &batchv1.CronJob{Spec: batchv1.CronJobSpec{ConcurrencyPolicy: batchv1.ForbidConcurrent, SuccessfulJobsHistoryLimit: ptrTo[int32](0)}}
	cronJobStrategy{}.Default(kept)
	if kept.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || *kept.Spec.SuccessfulJobsHistoryLimit != 0 {
		t.Fatalf("explicit values overwritten: %+v", kept.Spec)
	}
}

func TestCronJobValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*batchv1.CronJob)
		want   []wantErr
	}{
		{"valid", func(*batchv1.CronJob) {}, nil},
		{"macro and zone", func(cj *batchv1.CronJob) {
			cj.Spec.Schedule = "@daily"
			cj.Spec.TimeZone = ptrTo("Europe/Berlin")
		}, nil},
		{"no schedule", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "" }, []wantErr{{"spec.schedule", field.ErrorTypeRequired, ""}}},
		{"bad schedule", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "61 * * * *" }, []wantErr{
			{"spec.schedule", field.ErrorTypeInvalid, "end of range (61) above maximum (59): 61"},
		}},
		{"TZ in schedule", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 3 * * *" }, []wantErr{
			{"spec.schedule", field.ErrorTypeInvalid, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"},
		}},
		{"unknown zone", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptrTo("Mars/Olympus_Mons") }, []wantErr{
			{"spec.timeZone", field.ErrorTypeInvalid, "unknown time zone Mars/Olympus_Mons"},
		}},
		{"malformed zone", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptrTo("../etc/passwd") }, []wantErr{
			{"spec.timeZone", field.ErrorTypeInvalid, "unknown time zone ../etc/passwd"},
		}},
		{"empty zone", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptrTo("") }, []wantErr{
			{"spec.timeZone", field.ErrorTypeInvalid, "timeZone must be nil or non-empty string"},
		}},
		{"local zone", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptrTo("Local") }, []wantErr{
			{"spec.timeZone", field.ErrorTypeInvalid, "timeZone must be an explicit time zone"},
		}},
		{"concurrency", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = "Sometimes" }, []wantErr{
			{"spec.concurrencyPolicy", field.ErrorTypeNotSupported, `"Allow", "Forbid", "Replace"`},
		}},
		{"negative limits", func(cj *batchv1.CronJob) {
			cj.Spec.StartingDeadlineSeconds = ptrTo[int64](-1)
			cj.Spec.FailedJobsHistoryLimit = ptrTo[int32](-1)
		}, []wantErr{
			{"spec.startingDeadlineSeconds", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			{"spec.failedJobsHistoryLimit", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
		}},
		{"job template", func(cj *batchv1.CronJob) {
			cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
			cj.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
			cj.Spec.JobTemplate.Spec.ManualSelector = ptrTo(true)
		}, []wantErr{
			{"spec.jobTemplate.spec.template.spec.restartPolicy", field.ErrorTypeRequired, `valid values: "OnFailure", "Never"`},
			{"spec.jobTemplate.spec.selector", field.ErrorTypeInvalid, "`selector` will be auto-generated"},
			{"spec.jobTemplate.spec.manualSelector", field.ErrorTypeNotSupported, `"nil", "false"`},
		}},
		{"name too long", func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 53) }, []wantErr{
			{"metadata.name", field.ErrorTypeInvalid, "must be no more than 52 characters"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cj := validCronJob()
			tc.mutate(cj)
			checkErrs(t, cronJobStrategy{}.Validate(cj), tc.want)
		})
	}
}

func TestCronJobValidateUpdate(t *testing.T) {
	long := validCronJob()
	long.Name = strings.Repeat("a", 60)
	checkErrs(t, cronJobStrategy{}.ValidateUpdate(long.DeepCopy(), long), nil)

	legacy := validCronJob()
	legacy.Spec.Schedule = "TZ=UTC 0 3 * * *"
	keep := legacy.DeepCopy()
	keep.Spec.Schedule = "TZ=UTC 0 4 * * *"
	checkErrs(t, cronJobStrategy{}.ValidateUpdate(keep, legacy), nil)
	both := keep.DeepCopy()
	both.Spec.TimeZone = ptrTo("UTC")
	checkErrs(t, cronJobStrategy{}.ValidateUpdate(both, legacy), []wantErr{
		{"spec.schedule", field.ErrorTypeInvalid, "cannot use both timeZone field and TZ or CRON_TZ in schedule"},
	})
}

func TestCronJobPrepare(t *testing.T) {
	s := cronJobStrategy{}
	cj := validCronJob()
	cj.Status.Active = []corev1.ObjectReference{{Name: "x"}}
	s.PrepareForCreate(cj)
	if cj.Generation != 1 || len(cj.Status.Active) != 0 {
		t.Fatalf("create %+v", cj)
	}
	old := cj.DeepCopy()
	old.Status.LastScheduleTime = &metav1.Time{Time: fixedNow}
	upd := old.DeepCopy()
	upd.Status = batchv1.CronJobStatus{}
	upd.Spec.Suspend = ptrTo(true)
	s.PrepareForUpdate(upd, old)
	if upd.Generation != 2 || upd.Status.LastScheduleTime == nil {
		t.Fatalf("update %+v", upd)
	}
	st := old.DeepCopy()
	st.Spec.Schedule = "* * * * *"
	s.PrepareForStatusUpdate(st, old)
	if st.Spec.Schedule != old.Spec.Schedule {
		t.Fatalf("status update changed spec")
	}
}

func TestCronJobTable(t *testing.T) {
	s := cronJobStrategy{now: fixedClock}
	var heads []string
	for _, c := range s.TableColumns() {
		heads = append(heads, c.Name)
	}
	if !reflect.DeepEqual(heads, []string{"Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age", "Containers", "Images", "Selector"}) {
		t.Fatalf("columns %v", heads)
	}
	cj := validCronJob()
	cj.CreationTimestamp = metav1.NewTime(fixedNow.Add(-75 * time.Second))
	want := []interface{}{"nightly", "0 3 * * *", "<none>", "False", int64(0), "<none>", "75s", "pi", "perl:5.34", "<none>"}
	if got := s.TableRow(cj); !reflect.DeepEqual(got, want) {
		t.Fatalf("row %#v", got)
	}
	cj.Spec.TimeZone = ptrTo("Etc/UTC")
	cj.Spec.Suspend = ptrTo(true)
	cj.Status.Active = []corev1.ObjectReference{{Name: "a"}, {Name: "b"}}
	cj.Status.LastScheduleTime = &metav1.Time{Time: fixedNow.Add(-2 * time.Minute)}
	want = []interface{}{"nightly", "0 3 * * *", "Etc/UTC", "True", int64(2), "2m", "75s", "pi", "perl:5.34", "<none>"}
	if got := s.TableRow(cj); !reflect.DeepEqual(got, want) {
		t.Fatalf("row %#v", got)
	}
	cj.Spec.Suspend = nil
	if got := s.TableRow(cj)[3]; got != "<unset>" {
		t.Fatalf("suspend %v", got)
	}
}

func TestBatchResources(t *testing.T) {
	j, cj := Jobs(), CronJobs()
	if j.Group != "batch" || j.Resource != "jobs" || !reflect.DeepEqual(j.Categories, []string{"all"}) || len(j.ShortNames) != 0 || !j.HasSubresource("status") {
		t.Fatalf("jobs %+v", j)
	}
	if cj.Resource != "cronjobs" || !reflect.DeepEqual(cj.ShortNames, []string{"cj"}) || !cj.HasSubresource("status") || cj.HasSubresource("scale") {
		t.Fatalf("cronjobs %+v", cj)
	}
	if _, ok := j.Strategy.(registry.FieldSelectable); !ok {
		t.Fatalf("jobs are selectable by status.successful")
	}
	if _, ok := cj.Strategy.(registry.FieldSelectable); ok {
		t.Fatalf("cron jobs have no extra selectable fields")
	}
}
