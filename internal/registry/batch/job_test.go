package batch

import (
	"math"
	"reflect"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestJobDefault(t *testing.T) {
	cases := []struct {
		name  string
		in    batchv1.JobSpec
		check func(*testing.T, *batchv1.JobSpec)
	}{
		{"both unset", batchv1.JobSpec{}, func(t *testing.T, s *batchv1.JobSpec) {
			if *s.Completions != 1 || *s.Parallelism != 1 {
				t.Fatalf("completions %v parallelism %v", *s.Completions, *s.Parallelism)
			}
		}},
		{"work queue keeps completions unset", batchv1.JobSpec{Parallelism: ptrTo[int32](4)}, func(t *testing.T, s *batchv1.JobSpec) {
			if s.Completions != nil || *s.Parallelism != 4 {
				t.Fatalf("completions %v parallelism %v", s.Completions, *s.Parallelism)
			}
		}},
		{"completions only", batchv1.JobSpec{Completions: ptrTo[int32](5)}, func(t *testing.T, s *batchv1.JobSpec) {
			if *s.Completions != 5 || *s.Parallelism != 1 {
				t.Fatalf("completions %v parallelism %v", *s.Completions, *s.Parallelism)
			}
		}},
		{"fixed defaults", batchv1.JobSpec{}, func(t *testing.T, s *batchv1.JobSpec) {
			if *s.BackoffLimit != 6 || *s.CompletionMode != batchv1.NonIndexedCompletion || *s.Suspend ||
				*s.PodReplacementPolicy != batchv1.TerminatingOrFailed || *s.ManualSelector {
				t.Fatalf("spec %+v", s)
			}
		}},
		{"backoff per index", batchv1.JobSpec{BackoffLimitPerIndex: ptrTo[int32](1)}, func(t *testing.T, s *batchv1.JobSpec) {
			if *s.BackoffLimit != math.MaxInt32 {
				t.Fatalf("backoffLimit %d", *s.BackoffLimit)
			}
		}},
		{"pod failure policy", batchv1.JobSpec{PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
			Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}},
		}}}}, func(t *testing.T, s *batchv1.JobSpec) {
			if *s.PodReplacementPolicy != batchv1.Failed || s.PodFailurePolicy.Rules[0].OnPodConditions[0].Status != corev1.ConditionTrue {
				t.Fatalf("spec %+v", s)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := &batchv1.Job{Spec: tc.in}
			jobStrategy{}.Default(j)
			tc.check(t, &j.Spec)
			again := j.DeepCopy()
			jobStrategy{}.Default(again)
			if !reflect.DeepEqual(again, j) {
				t.Fatalf("defaulting is not idempotent")
			}
		})
	}
}

func TestJobGeneratedSelector(t *testing.T) {
	j := createdJob(nil)
	wantLabels := map[string]string{
		"controller-uid": string(testUID), "batch.kubernetes.io/controller-uid": string(testUID),
		"job-name": "pi", "batch.kubernetes.io/job-name": "pi",
	}
	if !reflect.DeepEqual(j.Spec.Template.Labels, wantLabels) {
		t.Fatalf("template labels %v", j.Spec.Template.Labels)
	}
	if !reflect.DeepEqual(j.Spec.Selector, &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": string(testUID)}}) {
		t.Fatalf("selector %v", j.Spec.Selector)
	}
	if !reflect.DeepEqual(j.Labels, wantLabels) {
		t.Fatalf("job labels %v", j.Labels)
	}
	j.Spec.Template.Labels["job-name"] = "changed"
	if j.Labels["job-name"] != "pi" {
		t.Fatalf("job labels share the template's map")
	}
	if j.Generation != 1 {
		t.Fatalf("generation %d", j.Generation)
	}

	own := createdJob(func(j *batchv1.Job) {
		j.Labels = map[string]string{"team": "a"}
		j.Spec.Template.Labels = map[string]string{"app": "pi"}
	})
	if !reflect.DeepEqual(own.Labels, map[string]string{"team": "a"}) || own.Spec.Template.Labels["app"] != "pi" {
		t.Fatalf("labels %v / %v", own.Labels, own.Spec.Template.Labels)
	}
	// Kubernetes copies a labelled template's labels to an unlabelled job
	// when defaulting, before the generated ones exist; they end up on the
	// job all the same, because the two share a map there.
	tmplOnly := createdJob(func(j *batchv1.Job) { j.Spec.Template.Labels = map[string]string{"app": "pi"} })
	if tmplOnly.Labels["app"] != "pi" || tmplOnly.Labels["batch.kubernetes.io/job-name"] != "pi" || len(tmplOnly.Labels) != 5 {
		t.Fatalf("job labels %v", tmplOnly.Labels)
	}
	unlabelled := tmplOnly.DeepCopy()
	unlabelled.Labels = nil
	jobStrategy{}.PrepareForUpdate(unlabelled, tmplOnly)
	if !reflect.DeepEqual(unlabelled.Labels, tmplOnly.Spec.Template.Labels) {
		t.Fatalf("update without labels: %v", unlabelled.Labels)
	}

	manual := createdJob(func(j *batchv1.Job) {
		j.Spec.ManualSelector = ptrTo(true)
		j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
		j.Spec.Template.Labels = map[string]string{"app": "pi"}
	})
	if len(manual.Spec.Template.Labels) != 1 || len(manual.Spec.Selector.MatchLabels) != 1 {
		t.Fatalf("manual selector was generated: %v %v", manual.Spec.Template.Labels, manual.Spec.Selector)
	}
	checkErrs(t, jobStrategy{}.Validate(manual), nil)
}

func TestJobValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*batchv1.Job) // before defaulting
		after  func(*batchv1.Job) // after PrepareForCreate
		want   []wantErr
	}{
		{"valid", nil, nil, nil},
		{"restart policy always", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways }, nil, []wantErr{
			{"spec.template.spec.restartPolicy", field.ErrorTypeRequired, `valid values: "OnFailure", "Never"`},
		}},
		{"restart policy unset", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "" }, nil, []wantErr{
			{"spec.template.spec.restartPolicy", field.ErrorTypeRequired, `valid values: "OnFailure", "Never"`},
		}},
		{"negative counts", func(j *batchv1.Job) {
			j.Spec.Completions = ptrTo[int32](-1)
			j.Spec.Parallelism = ptrTo[int32](-2)
			j.Spec.BackoffLimit = ptrTo[int32](-3)
			j.Spec.ActiveDeadlineSeconds = ptrTo[int64](-4)
			j.Spec.TTLSecondsAfterFinished = ptrTo[int32](-5)
		}, nil, []wantErr{
			{"spec.completions", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			{"spec.parallelism", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			{"spec.backoffLimit", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			{"spec.activeDeadlineSeconds", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			{"spec.ttlSecondsAfterFinished", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
		}},
		{"completion mode", func(j *batchv1.Job) { j.Spec.CompletionMode = ptrTo[batchv1.CompletionMode]("Sometimes") }, nil, []wantErr{
			{"spec.completionMode", field.ErrorTypeNotSupported, `"NonIndexed", "Indexed"`},
		}},
		{"indexed without completions", func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptrTo(batchv1.IndexedCompletion)
			j.Spec.Parallelism = ptrTo[int32](2)
		}, nil, []wantErr{
			{"spec.completions", field.ErrorTypeRequired, "when completion mode is Indexed"},
		}},
		{"per-index fields need indexed mode", func(j *batchv1.Job) {
			j.Spec.BackoffLimitPerIndex = ptrTo[int32](1)
			j.Spec.MaxFailedIndexes = ptrTo[int32](1)
		}, nil, []wantErr{
			{"spec.backoffLimitPerIndex", field.ErrorTypeInvalid, "requires indexed completion mode"},
			{"spec.maxFailedIndexes", field.ErrorTypeInvalid, "requires indexed completion mode"},
		}},
		{"indexed hostname", func(j *batchv1.Job) {
			j.Name = "a-job-name-that-fits-a-label-but-not-with-an-index-suffix-abcd" // 62 characters
			j.Spec.CompletionMode = ptrTo(batchv1.IndexedCompletion)
			j.Spec.Completions = ptrTo[int32](10)
		}, nil, []wantErr{
			{"metadata.name", field.ErrorTypeInvalid, "will not able to create pod with invalid DNS label"},
		}},
		{"pod replacement policy", func(j *batchv1.Job) { j.Spec.PodReplacementPolicy = ptrTo[batchv1.PodReplacementPolicy]("Whenever") }, nil, []wantErr{
			{"spec.podReplacementPolicy", field.ErrorTypeNotSupported, `"Failed", "TerminatingOrFailed"`},
		}},
		{"pod failure policy needs Never", func(j *batchv1.Job) {
			j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action:      batchv1.PodFailurePolicyActionFailJob,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{0, 3, 2, 3}},
			}, {Action: "Explode"}}}
		}, nil, []wantErr{
			{"spec.template.spec.restartPolicy", field.ErrorTypeInvalid, `only "Never" is supported when podFailurePolicy is specified`},
			{"spec.podFailurePolicy.rules[0].onExitCodes.values[0]", field.ErrorTypeInvalid, "must not be 0 for the In operator"},
			{"spec.podFailurePolicy.rules[0].onExitCodes.values[3]", field.ErrorTypeDuplicate, ""},
			{"spec.podFailurePolicy.rules[0].onExitCodes.values", field.ErrorTypeInvalid, "must be ordered"},
			{"spec.podFailurePolicy.rules[1].action", field.ErrorTypeNotSupported, `"Count", "FailIndex", "FailJob", "Ignore"`},
			{"spec.podFailurePolicy.rules[1]", field.ErrorTypeInvalid, "specifying one of OnExitCodes and OnPodConditions is required"},
		}},
		{"success policy", func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptrTo(batchv1.IndexedCompletion)
			j.Spec.Completions = ptrTo[int32](5)
			j.Spec.Parallelism = ptrTo[int32](5)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{
				{SucceededIndexes: ptrTo("0-2,4"), SucceededCount: ptrTo[int32](4)},
				{SucceededIndexes: ptrTo("3-1")},
				{SucceededCount: ptrTo[int32](6)},
				{},
			}}
		}, nil, []wantErr{
			{"spec.successPolicy.rules[1].succeededIndexes", field.ErrorTypeInvalid, "non-increasing order, previous: 3, current: 1"},
			{"spec.successPolicy.rules[2].succeededCount", field.ErrorTypeInvalid, "must be less than or equal to 5 (the number of specified completions)"},
			{"spec.successPolicy.rules[3]", field.ErrorTypeRequired, "at least one of succeededCount or succeededIndexes must be specified"},
		}},
		{"generated label tampered", nil, func(j *batchv1.Job) { j.Spec.Template.Labels["batch.kubernetes.io/job-name"] = "other" }, []wantErr{
			// the generated selector only selects the UID, so it still matches
			{"spec.template.metadata.labels[batch.kubernetes.io/job-name]", field.ErrorTypeInvalid, "must be 'pi'"},
		}},
		{"selector not matching template", func(j *batchv1.Job) {
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
		}, nil, []wantErr{
			{"spec.selector", field.ErrorTypeInvalid, "`selector` not auto-generated"},
			{"spec.template.metadata.labels", field.ErrorTypeInvalid, "`selector` does not match template `labels`"},
		}},
		{"no uid", nil, func(j *batchv1.Job) { j.UID = "" }, []wantErr{
			{"metadata.uid", field.ErrorTypeRequired, ""},
			{"spec.template.metadata.labels[controller-uid]", field.ErrorTypeInvalid, "must be ''"},
			{"spec.template.metadata.labels[batch.kubernetes.io/controller-uid]", field.ErrorTypeInvalid, "must be ''"},
			{"spec.selector", field.ErrorTypeInvalid, "`selector` not auto-generated"},
		}},
		{"manual without selector", func(j *batchv1.Job) { j.Spec.ManualSelector = ptrTo(true) }, nil, []wantErr{
			{"spec.selector", field.ErrorTypeRequired, ""},
			{"spec.template.metadata.labels", field.ErrorTypeInvalid, "does not match"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := createdJob(tc.mutate)
			if tc.after != nil {
				tc.after(j)
			}
			checkErrs(t, jobStrategy{}.Validate(j), tc.want)
		})
	}
}

func TestJobUnknownRestartPolicy(t *testing.T) {
	// Pod validation reports the value too; the job adds its narrower list.
	j := createdJob(func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "Sometimes" })
	found := false
	for _, e := range (jobStrategy{}).Validate(j) {
		if e.Field == "spec.template.spec.restartPolicy" && e.Type == field.ErrorTypeNotSupported && e.Detail == `supported values: "OnFailure", "Never"` {
			found = true
		}
	}
	if !found {
		t.Fatalf("no job restartPolicy error")
	}
}

func TestJobValidateUpdate(t *testing.T) {
	cases := []struct {
		name      string
		suspended bool
		started   bool
		mutate    func(*batchv1.Job)
		want      []wantErr
	}{
		{"parallelism and deadline may change", false, true, func(j *batchv1.Job) {
			j.Spec.Parallelism = ptrTo[int32](3)
			j.Spec.ActiveDeadlineSeconds = ptrTo[int64](60)
			j.Spec.Suspend = ptrTo(true)
		}, nil},
		{"completions immutable", false, true, func(j *batchv1.Job) { j.Spec.Completions = ptrTo[int32](4) }, []wantErr{
			{"spec.completions", field.ErrorTypeInvalid, "field is immutable"},
		}},
		{"template immutable", false, true, func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl:6" }, []wantErr{
			{"spec.template", field.ErrorTypeInvalid, "field is immutable"},
		}},
		{"scheduling of a running job", false, true, func(j *batchv1.Job) {
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
		}, []wantErr{{"spec.template", field.ErrorTypeInvalid, "field is immutable"}}},
		{"scheduling of a suspended job that never ran", true, false, func(j *batchv1.Job) {
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
			j.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
			j.Spec.Template.Annotations = map[string]string{"a": "b"}
		}, nil},
		{"image of a suspended job", true, false, func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl:6" }, []wantErr{
			{"spec.template", field.ErrorTypeInvalid, "field is immutable"},
		}},
		{"selector and completion mode", false, true, func(j *batchv1.Job) {
			j.Spec.Selector.MatchLabels["extra"] = "x"
			j.Spec.Template.Labels["extra"] = "x"
			j.Spec.CompletionMode = ptrTo(batchv1.IndexedCompletion)
		}, []wantErr{
			{"spec.selector", field.ErrorTypeInvalid, "field is immutable"},
			{"spec.template", field.ErrorTypeInvalid, "field is immutable"},
			{"spec.completionMode", field.ErrorTypeInvalid, "field is immutable"},
			{"spec.selector", field.ErrorTypeInvalid, "`selector` not auto-generated"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := createdJob(func(j *batchv1.Job) { j.Spec.Suspend = ptrTo(tc.suspended) })
			if tc.started {
				old.Status.StartTime = &metav1.Time{Time: fixedNow}
			}
			j := old.DeepCopy()
			tc.mutate(j)
			checkErrs(t, jobStrategy{}.ValidateUpdate(j, old), tc.want)
		})
	}
}

func TestJobElasticIndexed(t *testing.T) {
	old := createdJob(func(j *batchv1.Job) {
		j.Spec.CompletionMode = ptrTo(batchv1.IndexedCompletion)
		j.Spec.Completions = ptrTo[int32](4)
		j.Spec.Parallelism = ptrTo[int32](4)
	})
	both := old.DeepCopy()
	both.Spec.Completions, both.Spec.Parallelism = ptrTo[int32](2), ptrTo[int32](2)
	checkErrs(t, jobStrategy{}.ValidateUpdate(both, old), nil)
	one := old.DeepCopy()
	one.Spec.Completions = ptrTo[int32](2)
	checkErrs(t, jobStrategy{}.ValidateUpdate(one, old), []wantErr{
		{"spec.completions", field.ErrorTypeInvalid, "can only be modified in tandem with spec.parallelism"},
	})
}

func TestJobPrepareForUpdate(t *testing.T) {
	s := jobStrategy{}
	old := createdJob(nil)
	old.Status = batchv1.JobStatus{Active: 1}
	j := old.DeepCopy()
	j.Status = batchv1.JobStatus{}
	j.Spec.Parallelism = ptrTo[int32](2)
	s.PrepareForUpdate(j, old)
	if j.Status.Active != 1 || j.Generation != 2 {
		t.Fatalf("status %+v generation %d", j.Status, j.Generation)
	}
	st := old.DeepCopy()
	st.Spec.Parallelism = ptrTo[int32](9)
	s.PrepareForStatusUpdate(st, old)
	if *st.Spec.Parallelism != 1 {
		t.Fatalf("status update changed spec")
	}
}

func TestJobStatusUpdate(t *testing.T) {
	start := metav1.NewTime(fixedNow.Add(-time.Minute))
	end := metav1.NewTime(fixedNow)
	cases := []struct {
		name string
		old  batchv1.JobStatus
		new  batchv1.JobStatus
		want []wantErr
	}{
		{"progress", batchv1.JobStatus{StartTime: &start, Active: 1}, batchv1.JobStatus{StartTime: &start, Active: 0, Succeeded: 1}, nil},
		{"complete properly", batchv1.JobStatus{StartTime: &start}, batchv1.JobStatus{StartTime: &start, CompletionTime: &end, Succeeded: 1,
			Conditions: []batchv1.JobCondition{jobCondition(batchv1.JobSuccessCriteriaMet), jobCondition(batchv1.JobComplete)}}, nil},
		{"complete without time or start", batchv1.JobStatus{}, batchv1.JobStatus{Active: 1,
			Conditions: []batchv1.JobCondition{jobCondition(batchv1.JobComplete)}}, []wantErr{
			{"status.completionTime", field.ErrorTypeRequired, "completionTime is required for Complete jobs"},
			{"status.active", field.ErrorTypeInvalid, "active>0 is invalid for finished job"},
			{"status.startTime", field.ErrorTypeRequired, "startTime is required for finished job"},
		}},
		{"counters go back", batchv1.JobStatus{Succeeded: 2, Failed: 1}, batchv1.JobStatus{Succeeded: 1, Failed: 0, Active: -1}, []wantErr{
			{"status.active", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			{"status.failed", field.ErrorTypeInvalid, "cannot decrease the failed counter"},
			{"status.succeeded", field.ErrorTypeInvalid, "cannot decrease the succeeded counter"},
		}},
		{"terminal condition dropped", batchv1.JobStatus{StartTime: &start, Conditions: []batchv1.JobCondition{jobCondition(batchv1.JobFailureTarget)}},
			batchv1.JobStatus{StartTime: &start}, []wantErr{
				{"status.conditions", field.ErrorTypeInvalid, "cannot disable the terminal FailureTarget=True condition"},
			}},
		{"completed indexes on non-indexed job", batchv1.JobStatus{}, batchv1.JobStatus{CompletedIndexes: "0"}, []wantErr{
			{"status.completedIndexes", field.ErrorTypeInvalid, "cannot set non-empty completedIndexes when non-indexed completion mode"},
		}},
		{"duplicate uncounted", batchv1.JobStatus{}, batchv1.JobStatus{UncountedTerminatedPods: &batchv1.UncountedTerminatedPods{
			Succeeded: []types.UID{"a", ""}, Failed: []types.UID{"a"}}}, []wantErr{
			{"status.uncountedTerminatedPods.succeeded[1]", field.ErrorTypeInvalid, "must not be empty"},
			{"status.uncountedTerminatedPods.failed[0]", field.ErrorTypeDuplicate, ""},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := createdJob(nil)
			old.Status = tc.old
			j := old.DeepCopy()
			j.Status = tc.new
			checkErrs(t, jobStrategy{}.ValidateStatusUpdate(j, old), tc.want)
		})
	}
}

func TestJobFieldsAndTable(t *testing.T) {
	s := jobStrategy{now: fixedClock}
	j := createdJob(nil)
	j.Status.Succeeded = 3
	if got := s.SelectableFields(j); !reflect.DeepEqual(got, fields.Set{"status.successful": "3"}) {
		t.Fatalf("fields %v", got)
	}
	var heads []string
	for _, c := range s.TableColumns() {
		heads = append(heads, c.Name)
	}
	if !reflect.DeepEqual(heads, []string{"Name", "Status", "Completions", "Duration", "Age", "Containers", "Images", "Selector"}) {
		t.Fatalf("columns %v", heads)
	}
	created := metav1.NewTime(fixedNow.Add(-75 * time.Second))
	start := metav1.NewTime(fixedNow.Add(-75 * time.Second))
	done := metav1.NewTime(fixedNow.Add(-49 * time.Second))
	deleted := metav1.NewTime(fixedNow)
	cases := []struct {
		name   string
		mutate func(*batchv1.Job)
		want   []interface{}
	}{
		{"complete", func(j *batchv1.Job) {
			j.Spec.Completions = ptrTo[int32](3)
			j.Status = batchv1.JobStatus{Succeeded: 3, StartTime: &start, CompletionTime: &done, Conditions: []batchv1.JobCondition{jobCondition(batchv1.JobComplete)}}
		}, []interface{}{"pi", "Complete", "3/3", "26s", "75s"}},
		{"failed runs until now", func(j *batchv1.Job) {
			j.Status = batchv1.JobStatus{StartTime: &start, Conditions: []batchv1.JobCondition{jobCondition(batchv1.JobFailed)}}
		}, []interface{}{"pi", "Failed", "0/1", "75s", "75s"}},
		{"work queue", func(j *batchv1.Job) {
			j.Spec.Completions = nil
			j.Spec.Parallelism = ptrTo[int32](4)
			j.Status = batchv1.JobStatus{Succeeded: 2}
		}, []interface{}{"pi", "Running", "2/1 of 4", "", "75s"}},
		{"suspended", func(j *batchv1.Job) {
			j.Status = batchv1.JobStatus{Conditions: []batchv1.JobCondition{jobCondition(batchv1.JobSuspended)}}
		}, []interface{}{"pi", "Suspended", "0/1", "", "75s"}},
		{"terminating", func(j *batchv1.Job) { j.DeletionTimestamp = &deleted }, []interface{}{"pi", "Terminating", "0/1", "", "75s"}},
		{"finished and terminating", func(j *batchv1.Job) {
			j.DeletionTimestamp = &deleted
			j.Status = batchv1.JobStatus{Conditions: []batchv1.JobCondition{jobCondition(batchv1.JobComplete)}}
		}, []interface{}{"pi", "Complete", "0/1", "", "75s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := createdJob(nil)
			j.CreationTimestamp = created
			tc.mutate(j)
			want := append(tc.want, "pi", "perl:5.34", "batch.kubernetes.io/controller-uid="+string(testUID))
			if got := s.TableRow(j); !reflect.DeepEqual(got, want) {
				t.Fatalf("row %#v\nwant %#v", got, want)
			}
		})
	}
}
