package apps

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validDaemonSet() *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system"},
		Spec:       appsv1.DaemonSetSpec{Selector: appSelector(), Template: podTemplate(appLabels())},
	}
	daemonSetStrategy{}.Default(ds)
	return ds
}

func TestDaemonSetDefault(t *testing.T) {
	ds := &appsv1.DaemonSet{}
	daemonSetStrategy{}.Default(ds)
	want := appsv1.DaemonSetUpdateStrategy{
		Type: appsv1.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDaemonSet{
			MaxUnavailable: ptrTo(intstr.FromInt32(1)),
			MaxSurge:       ptrTo(intstr.FromInt32(0)),
		},
	}
	if !reflect.DeepEqual(ds.Spec.UpdateStrategy, want) || *ds.Spec.RevisionHistoryLimit != 10 {
		t.Fatalf("defaults %+v", ds.Spec)
	}
	onDelete := &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}}}
	daemonSetStrategy{}.Default(onDelete)
	if onDelete.Spec.UpdateStrategy.RollingUpdate != nil {
		t.Fatalf("OnDelete got a rolling update")
	}
}

func TestDaemonSetValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*appsv1.DaemonSet)
		want   []wantErr
	}{
		{"valid", func(*appsv1.DaemonSet) {}, nil},
		{"no selector", func(ds *appsv1.DaemonSet) { ds.Spec.Selector = nil }, []wantErr{
			{"spec.template.metadata.labels", field.ErrorTypeInvalid, "`selector` does not match template `labels`"},
		}},
		{"empty selector", func(ds *appsv1.DaemonSet) { ds.Spec.Selector = &metav1.LabelSelector{} }, []wantErr{
			{"spec.selector", field.ErrorTypeInvalid, "empty selector is invalid for daemonset"},
		}},
		{"restart and deadline", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			ds.Spec.Template.Spec.ActiveDeadlineSeconds = ptrTo[int64](1)
		}, []wantErr{
			{"spec.template.spec.restartPolicy", field.ErrorTypeNotSupported, ""},
			{"spec.template.spec.activeDeadlineSeconds", field.ErrorTypeForbidden, "activeDeadlineSeconds in DaemonSet is not Supported"},
		}},
		{"surge and unavailable", func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptrTo(intstr.FromString("10%"))
		}, []wantErr{
			{"spec.updateStrategy.rollingUpdate.maxSurge", field.ErrorTypeInvalid, "may not be set when maxUnavailable is non-zero"},
		}},
		{"both zero", func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptrTo(intstr.FromInt32(0))
		}, []wantErr{
			{"spec.updateStrategy.rollingUpdate.maxUnavailable", field.ErrorTypeRequired, "cannot be 0 when maxSurge is 0"},
		}},
		{"surge over 100%", func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptrTo(intstr.FromInt32(0))
			ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptrTo(intstr.FromString("150%"))
		}, []wantErr{
			{"spec.updateStrategy.rollingUpdate.maxSurge", field.ErrorTypeInvalid, "must not be greater than 100%"},
		}},
		{"unknown strategy", func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: "Blue"} }, []wantErr{
			{"spec.updateStrategy", field.ErrorTypeNotSupported, `"RollingUpdate", "OnDelete"`},
		}},
		{"negative history", func(ds *appsv1.DaemonSet) { ds.Spec.RevisionHistoryLimit = ptrTo[int32](-1) }, []wantErr{
			{"spec.revisionHistoryLimit", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ds := validDaemonSet()
			tc.mutate(ds)
			checkErrs(t, daemonSetStrategy{}.Validate(ds), tc.want)
		})
	}
}

func TestDaemonSetTemplateGeneration(t *testing.T) {
	s := daemonSetStrategy{}
	ds := validDaemonSet()
	ds.Annotations = map[string]string{"keep": "me"}
	s.PrepareForCreate(ds)
	if ds.Generation != 1 || ds.Annotations[appsv1.DeprecatedTemplateGeneration] != "1" || ds.Annotations["keep"] != "me" {
		t.Fatalf("create: %d %v", ds.Generation, ds.Annotations)
	}
	cases := []struct {
		name        string
		mutate      func(*appsv1.DaemonSet)
		wantGen     int64
		wantTmplGen string
	}{
		{"no change", func(*appsv1.DaemonSet) {}, 1, "1"},
		{"client tampers with annotation", func(d *appsv1.DaemonSet) { d.Annotations[appsv1.DeprecatedTemplateGeneration] = "42" }, 1, "1"},
		{"spec change", func(d *appsv1.DaemonSet) { d.Spec.MinReadySeconds = 5 }, 2, "1"},
		{"template change", func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.Containers[0].Image = "agent:2" }, 2, "2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			upd := ds.DeepCopy()
			tc.mutate(upd)
			s.PrepareForUpdate(upd, ds)
			if upd.Generation != tc.wantGen || upd.Annotations[appsv1.DeprecatedTemplateGeneration] != tc.wantTmplGen {
				t.Fatalf("generation %d, template generation %q", upd.Generation, upd.Annotations[appsv1.DeprecatedTemplateGeneration])
			}
		})
	}
	st := ds.DeepCopy()
	st.Spec.MinReadySeconds = 9
	st.Status.NumberReady = 1
	s.PrepareForStatusUpdate(st, ds)
	if st.Spec.MinReadySeconds != 0 || st.Status.NumberReady != 1 {
		t.Fatalf("status update %+v", st)
	}
}

func TestDaemonSetStatusAndUpdate(t *testing.T) {
	s := daemonSetStrategy{}
	old := validDaemonSet()
	st := old.DeepCopy()
	st.Status = appsv1.DaemonSetStatus{NumberReady: -1, NumberUnavailable: -2}
	checkErrs(t, s.ValidateStatusUpdate(st, old), []wantErr{
		{"status.numberReady", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
		{"status.numberUnavailable", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
	})
	sel := old.DeepCopy()
	sel.Spec.Selector.MatchLabels = map[string]string{"app": "web", "x": "y"}
	sel.Spec.Template.Labels = map[string]string{"app": "web", "x": "y"}
	checkErrs(t, s.ValidateUpdate(sel, old), []wantErr{{"spec.selector", field.ErrorTypeInvalid, "field is immutable"}})
}

func TestDaemonSetTable(t *testing.T) {
	s := daemonSetStrategy{now: fixedClock}
	var heads []string
	for _, c := range s.TableColumns() {
		heads = append(heads, c.Name)
	}
	if !reflect.DeepEqual(heads, []string{"Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age", "Containers", "Images", "Selector"}) {
		t.Fatalf("columns %v", heads)
	}
	ds := validDaemonSet()
	ds.CreationTimestamp = metav1.NewTime(fixedNow.Add(-10 * time.Minute))
	ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2}
	want := []interface{}{"agent", int64(3), int64(3), int64(2), int64(3), int64(2), "<none>", "10m", "web", "nginx:1.27", "app=web"}
	if got := s.TableRow(ds); !reflect.DeepEqual(got, want) {
		t.Fatalf("row %#v", got)
	}
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	if got := s.TableRow(ds)[6]; got != "kubernetes.io/os=linux" {
		t.Fatalf("node selector %v", got)
	}
}
