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

func validDeployment() *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: appSelector(),
			Template: podTemplate(appLabels()),
		},
	}
	deploymentStrategy{}.Default(d)
	return d
}

func TestDeploymentDefault(t *testing.T) {
	pct := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	num := func(n int32) *intstr.IntOrString { v := intstr.FromInt32(n); return &v }
	cases := []struct {
		name string
		in   appsv1.DeploymentSpec
		want appsv1.DeploymentSpec
	}{{
		name: "empty spec",
		in:   appsv1.DeploymentSpec{},
		want: appsv1.DeploymentSpec{
			Replicas: ptrTo[int32](1),
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: pct("25%"), MaxSurge: pct("25%")},
			},
			RevisionHistoryLimit:    ptrTo[int32](10),
			ProgressDeadlineSeconds: ptrTo[int32](600),
		},
	}, {
		name: "recreate gets no rolling update",
		in:   appsv1.DeploymentSpec{Replicas: ptrTo[int32](0), Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}},
		want: appsv1.DeploymentSpec{
			Replicas:                ptrTo[int32](0),
			Strategy:                appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			RevisionHistoryLimit:    ptrTo[int32](10),
			ProgressDeadlineSeconds: ptrTo[int32](600),
		},
	}, {
		name: "partial rolling update keeps what is set",
		in: appsv1.DeploymentSpec{
			Strategy:                appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: num(2)}},
			RevisionHistoryLimit:    ptrTo[int32](0),
			ProgressDeadlineSeconds: ptrTo[int32](30),
		},
		want: appsv1.DeploymentSpec{
			Replicas: ptrTo[int32](1),
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: pct("25%"), MaxSurge: num(2)},
			},
			RevisionHistoryLimit:    ptrTo[int32](0),
			ProgressDeadlineSeconds: ptrTo[int32](30),
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &appsv1.Deployment{Spec: tc.in}
			deploymentStrategy{}.Default(d)
			got := d.Spec
			got.Template = corev1.PodTemplateSpec{} // pod defaults belong to podspec
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			again := d.DeepCopy()
			deploymentStrategy{}.Default(again)
			if !reflect.DeepEqual(again, d) {
				t.Fatalf("defaulting is not idempotent")
			}
		})
	}
}

func TestDeploymentValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []wantErr
	}{
		{"valid", func(*appsv1.Deployment) {}, nil},
		{"missing selector", func(d *appsv1.Deployment) { d.Spec.Selector = nil }, []wantErr{
			{"spec.selector", field.ErrorTypeRequired, ""},
			{"spec.template.metadata.labels", field.ErrorTypeInvalid, "`selector` does not match template `labels`"},
		}},
		{"empty selector", func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }, []wantErr{
			{"spec.selector", field.ErrorTypeInvalid, "empty selector is invalid for deployment"},
		}},
		{"selector does not match", func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "other"} }, []wantErr{
			{"spec.template.metadata.labels", field.ErrorTypeInvalid, "`selector` does not match template `labels`"},
		}},
		{"bad selector operator", func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}
		}, []wantErr{
			{"spec.selector.matchExpressions[0].operator", field.ErrorTypeInvalid, "not a valid selector operator"},
			{"spec.selector", field.ErrorTypeInvalid, "invalid label selector"},
		}},
		{"negative replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = ptrTo[int32](-1) }, []wantErr{
			{"spec.replicas", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
		}},
		{"restart policy", func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }, []wantErr{
			{"spec.template.spec.restartPolicy", field.ErrorTypeNotSupported, `"Always"`},
		}},
		{"active deadline", func(d *appsv1.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = ptrTo[int64](5) }, []wantErr{
			{"spec.template.spec.activeDeadlineSeconds", field.ErrorTypeForbidden, "activeDeadlineSeconds in ReplicaSet is not Supported"},
		}},
		{"surge and unavailable both zero", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptrTo(intstr.FromInt32(0))
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptrTo(intstr.FromString("0%"))
		}, []wantErr{
			{"spec.strategy.rollingUpdate.maxUnavailable", field.ErrorTypeInvalid, "may not be 0 when `maxSurge` is 0"},
		}},
		{"bad percentages", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptrTo(intstr.FromString("abc"))
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptrTo(intstr.FromString("120%"))
		}, []wantErr{
			{"spec.strategy.rollingUpdate.maxSurge", field.ErrorTypeInvalid, "a valid percent string"},
			{"spec.strategy.rollingUpdate.maxUnavailable", field.ErrorTypeInvalid, "must not be greater than 100%"},
		}},
		{"negative surge", func(d *appsv1.Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = ptrTo(intstr.FromInt32(-1)) }, []wantErr{
			{"spec.strategy.rollingUpdate.maxSurge", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
		}},
		{"recreate with rolling update", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType }, []wantErr{
			{"spec.strategy.rollingUpdate", field.ErrorTypeForbidden, "may not be specified when strategy `type` is 'Recreate'"},
		}},
		{"unknown strategy", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "BlueGreen" }, []wantErr{
			{"spec.strategy", field.ErrorTypeNotSupported, `"Recreate", "RollingUpdate"`},
		}},
		{"timing fields", func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds = 30
			d.Spec.ProgressDeadlineSeconds = ptrTo[int32](30)
			d.Spec.RevisionHistoryLimit = ptrTo[int32](-2)
		}, []wantErr{
			{"spec.revisionHistoryLimit", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			{"spec.progressDeadlineSeconds", field.ErrorTypeInvalid, "must be greater than minReadySeconds"},
		}},
		{"negative minReadySeconds", func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = -1 }, []wantErr{
			{"spec.minReadySeconds", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := validDeployment()
			tc.mutate(d)
			checkErrs(t, deploymentStrategy{}.Validate(d), tc.want)
		})
	}
}

func TestDeploymentSelectorMismatchMessage(t *testing.T) {
	d := validDeployment()
	d.Spec.Template.Labels = map[string]string{"app": "other"}
	errs := deploymentStrategy{}.Validate(d)
	want := "spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`"
	if len(errs) != 1 || errs[0].Error() != want {
		t.Fatalf("got %v, want %q", errs, want)
	}
}

func TestDeploymentValidateUpdate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []wantErr
	}{
		{"scale", func(d *appsv1.Deployment) { d.Spec.Replicas = ptrTo[int32](5) }, nil},
		{"new image", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" }, nil},
		{"selector change", func(d *appsv1.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "fe"}}
			d.Spec.Template.Labels["tier"] = "fe"
		}, []wantErr{{"spec.selector", field.ErrorTypeInvalid, "field is immutable"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := validDeployment()
			d := old.DeepCopy()
			tc.mutate(d)
			checkErrs(t, deploymentStrategy{}.ValidateUpdate(d, old), tc.want)
		})
	}
}

func TestDeploymentPrepare(t *testing.T) {
	s := deploymentStrategy{}
	d := validDeployment()
	d.Status.Replicas = 3
	s.PrepareForCreate(d)
	if d.Generation != 1 || !reflect.DeepEqual(d.Status, appsv1.DeploymentStatus{}) {
		t.Fatalf("create: generation %d status %+v", d.Generation, d.Status)
	}

	old := validDeployment()
	old.Generation = 4
	old.Status = appsv1.DeploymentStatus{Replicas: 2, ObservedGeneration: 4}
	cases := []struct {
		name    string
		mutate  func(*appsv1.Deployment)
		wantGen int64
	}{
		{"status only", func(d *appsv1.Deployment) { d.Status.Replicas = 9 }, 4},
		{"label only", func(d *appsv1.Deployment) { d.Labels = map[string]string{"x": "y"} }, 4},
		{"spec change", func(d *appsv1.Deployment) { d.Spec.Replicas = ptrTo[int32](7) }, 5},
		{"annotation change", func(d *appsv1.Deployment) { d.Annotations = map[string]string{"a": "b"} }, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := old.DeepCopy()
			tc.mutate(d)
			s.PrepareForUpdate(d, old)
			if d.Generation != tc.wantGen || !reflect.DeepEqual(d.Status, old.Status) {
				t.Fatalf("generation %d (want %d), status %+v", d.Generation, tc.wantGen, d.Status)
			}
		})
	}

	upd := old.DeepCopy()
	upd.Spec.Replicas = ptrTo[int32](9)
	upd.Labels = map[string]string{"changed": "yes"}
	upd.Status.Replicas = 3
	s.PrepareForStatusUpdate(upd, old)
	if !reflect.DeepEqual(upd.Spec, old.Spec) || upd.Labels != nil || upd.Status.Replicas != 3 {
		t.Fatalf("status update kept spec %v labels %v status %+v", *upd.Spec.Replicas, upd.Labels, upd.Status)
	}
}

func TestDeploymentValidateStatusUpdate(t *testing.T) {
	cases := []struct {
		name string
		old  appsv1.DeploymentStatus
		new  appsv1.DeploymentStatus
		want []wantErr
	}{
		{"consistent", appsv1.DeploymentStatus{}, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 2}, nil},
		{"negative", appsv1.DeploymentStatus{}, appsv1.DeploymentStatus{Replicas: -1, ObservedGeneration: -1}, []wantErr{
			{"status.replicas", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			{"status.observedGeneration", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			// zero counters now exceed the negative replica count
			{"status.updatedReplicas", field.ErrorTypeInvalid, "cannot be greater than status.replicas"},
			{"status.readyReplicas", field.ErrorTypeInvalid, "cannot be greater than status.replicas"},
			{"status.availableReplicas", field.ErrorTypeInvalid, "cannot be greater than status.replicas"},
		}},
		{"more than replicas", appsv1.DeploymentStatus{}, appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 3}, []wantErr{
			{"status.updatedReplicas", field.ErrorTypeInvalid, "cannot be greater than status.replicas"},
			{"status.readyReplicas", field.ErrorTypeInvalid, "cannot be greater than status.replicas"},
			{"status.availableReplicas", field.ErrorTypeInvalid, "cannot be greater than status.replicas"},
			{"status.availableReplicas", field.ErrorTypeInvalid, "cannot be greater than readyReplicas"},
		}},
		{"collision count decremented", appsv1.DeploymentStatus{CollisionCount: ptrTo[int32](2)}, appsv1.DeploymentStatus{CollisionCount: ptrTo[int32](1)}, []wantErr{
			{"status.collisionCount", field.ErrorTypeInvalid, "cannot be decremented"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := validDeployment()
			old.Status = tc.old
			d := old.DeepCopy()
			d.Status = tc.new
			checkErrs(t, deploymentStrategy{}.ValidateStatusUpdate(d, old), tc.want)
		})
	}
}

func TestDeploymentTable(t *testing.T) {
	s := deploymentStrategy{now: fixedClock}
	var heads []string
	for _, c := range s.TableColumns() {
		heads = append(heads, c.Name)
		if c.Name == "Name" && c.Format != "name" {
			t.Errorf("Name column format %q", c.Format)
		}
		if c.Description == "" {
			t.Errorf("column %s has no description", c.Name)
		}
	}
	wantHeads := []string{"Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"}
	if !reflect.DeepEqual(heads, wantHeads) {
		t.Fatalf("columns %v", heads)
	}
	d := validDeployment()
	d.CreationTimestamp = metav1.NewTime(fixedNow.Add(-75 * time.Second))
	d.Spec.Replicas = ptrTo[int32](3)
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: "side", Image: "busybox"})
	d.Status = appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 1}
	got := s.TableRow(d)
	want := []interface{}{"web", "2/3", int64(3), int64(1), "75s", "web,side", "nginx:1.27,busybox", "app=web"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row %#v\nwant %#v", got, want)
	}
	if len(got) != len(s.TableColumns()) {
		t.Fatalf("%d cells for %d columns", len(got), len(s.TableColumns()))
	}
}

func TestDeploymentResource(t *testing.T) {
	r := Deployments()
	if r.Group != "apps" || r.Version != "v1" || r.Resource != "deployments" || r.Kind != "Deployment" ||
		!r.Namespaced || !reflect.DeepEqual(r.ShortNames, []string{"deploy"}) || !reflect.DeepEqual(r.Categories, []string{"all"}) {
		t.Fatalf("resource %+v", r)
	}
	if !r.HasSubresource("status") || !r.HasSubresource("scale") {
		t.Fatalf("subresources %+v", r.Subresources)
	}
	if _, ok := r.New().(*appsv1.Deployment); !ok {
		t.Fatalf("New returns %T", r.New())
	}
	d := validDeployment()
	d.Spec.Replicas = ptrTo[int32](4)
	d.Status.Replicas = 2
	spec, status, sel := r.Scale.Get(d)
	if spec != 4 || status != 2 || sel != "app=web" {
		t.Fatalf("scale %d %d %q", spec, status, sel)
	}
	r.Scale.SetReplicas(d, 6)
	if *d.Spec.Replicas != 6 {
		t.Fatalf("replicas %d", *d.Spec.Replicas)
	}
}
