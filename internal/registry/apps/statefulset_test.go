package apps

import (
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validStatefulSet() *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: "db",
			Selector:    appSelector(),
			Template:    podTemplate(appLabels()),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
	statefulSetStrategy{}.Default(s)
	return s
}

func TestStatefulSetDefault(t *testing.T) {
	s := &appsv1.StatefulSet{}
	statefulSetStrategy{}.Default(s)
	s.Spec.Template = corev1.PodTemplateSpec{} // pod defaults belong to podspec
	want := appsv1.StatefulSetSpec{
		Replicas:            ptrTo[int32](1),
		PodManagementPolicy: appsv1.OrderedReadyPodManagement,
		UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
			Type:          appsv1.RollingUpdateStatefulSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptrTo[int32](0), MaxUnavailable: ptrTo(intstr.FromInt32(1))},
		},
		RevisionHistoryLimit: ptrTo[int32](10),
		PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		},
	}
	if !reflect.DeepEqual(s.Spec, want) {
		t.Fatalf("got %+v\nwant %+v", s.Spec, want)
	}

	explicit := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{
		UpdateStrategy:                       appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
		PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType},
	}}
	statefulSetStrategy{}.Default(explicit)
	if explicit.Spec.UpdateStrategy.RollingUpdate != nil {
		t.Fatalf("explicit RollingUpdate type got parameters")
	}
	if p := explicit.Spec.PersistentVolumeClaimRetentionPolicy; p.WhenDeleted != appsv1.DeletePersistentVolumeClaimRetentionPolicyType || p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Fatalf("retention %+v", p)
	}
}

func TestStatefulSetValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*appsv1.StatefulSet)
		want   []wantErr
	}{
		{"valid", func(*appsv1.StatefulSet) {}, nil},
		{"no service name is fine", func(s *appsv1.StatefulSet) { s.Spec.ServiceName = "" }, nil},
		{"volume mount of a claim template is fine", func(s *appsv1.StatefulSet) {
			s.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}, nil},
		{"no selector", func(s *appsv1.StatefulSet) { s.Spec.Selector = nil }, []wantErr{
			{"spec.selector", field.ErrorTypeRequired, ""},
			{"spec.template.metadata.labels", field.ErrorTypeInvalid, "does not match"},
		}},
		{"empty selector", func(s *appsv1.StatefulSet) { s.Spec.Selector = &metav1.LabelSelector{} }, []wantErr{
			{"spec.selector", field.ErrorTypeInvalid, "empty selector is invalid for statefulset"},
		}},
		{"pod management", func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = "Random" }, []wantErr{
			{"spec.podManagementPolicy", field.ErrorTypeInvalid, "must be 'OrderedReady' or 'Parallel'"},
		}},
		{"strategy", func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.Type = "Recreate" }, []wantErr{
			{"spec.updateStrategy", field.ErrorTypeInvalid, "must be 'RollingUpdate' or 'OnDelete'"},
		}},
		{"on delete with rolling update", func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType }, []wantErr{
			{"spec.updateStrategy.rollingUpdate", field.ErrorTypeInvalid, "only allowed for updateStrategy 'RollingUpdate'"},
		}},
		{"rolling update bounds", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate.Partition = ptrTo[int32](-1)
			s.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptrTo(intstr.FromInt32(0))
		}, []wantErr{
			{"spec.updateStrategy.rollingUpdate.partition", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			{"spec.updateStrategy.rollingUpdate.maxUnavailable", field.ErrorTypeInvalid, "cannot be 0"},
		}},
		{"retention", func(s *appsv1.StatefulSet) { s.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = "Keep" }, []wantErr{
			{"spec.persistentVolumeClaimRetentionPolicy.whenScaled", field.ErrorTypeNotSupported, `"Retain", "Delete"`},
		}},
		{"ordinals", func(s *appsv1.StatefulSet) { s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: -1} }, []wantErr{
			{"spec.ordinals.start", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
		}},
		{"restart policy and deadline", func(s *appsv1.StatefulSet) {
			s.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
			s.Spec.Template.Spec.ActiveDeadlineSeconds = ptrTo[int64](3)
		}, []wantErr{
			{"spec.template.spec.restartPolicy", field.ErrorTypeNotSupported, ""},
			{"spec.template.spec.activeDeadlineSeconds", field.ErrorTypeForbidden, "activeDeadlineSeconds in StatefulSet is not Supported"},
		}},
		{"bad template label", func(s *appsv1.StatefulSet) { s.Spec.Template.Labels["bad key!"] = "x" }, []wantErr{
			{"spec.template.labels", field.ErrorTypeInvalid, "name part must consist of"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validStatefulSet()
			tc.mutate(s)
			checkErrs(t, statefulSetStrategy{}.Validate(s), tc.want)
		})
	}
}

func TestStatefulSetName(t *testing.T) {
	r := StatefulSets()
	if msgs := r.ValidateName("db-0", false); len(msgs) != 0 {
		t.Fatalf("db-0: %v", msgs)
	}
	if msgs := r.ValidateName("db.example", false); len(msgs) == 0 {
		t.Fatalf("a dotted name must be rejected: stateful set names are DNS labels")
	}
}

func TestStatefulSetValidateUpdate(t *testing.T) {
	cases := []struct {
		name      string
		mutate    func(*appsv1.StatefulSet)
		forbidden bool
	}{
		{"replicas", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptrTo[int32](3) }, false},
		{"template", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "db:2" }, false},
		{"update strategy", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
		}, false},
		{"history, ordinals, retention, minReadySeconds", func(s *appsv1.StatefulSet) {
			s.Spec.RevisionHistoryLimit = ptrTo[int32](2)
			s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5}
			s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
			s.Spec.MinReadySeconds = 10
		}, false},
		{"service name", func(s *appsv1.StatefulSet) { s.Spec.ServiceName = "other" }, true},
		{"volume claim templates", func(s *appsv1.StatefulSet) {
			s.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
		}, true},
		{"pod management", func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := validStatefulSet()
			s := old.DeepCopy()
			tc.mutate(s)
			errs := statefulSetStrategy{}.ValidateUpdate(s, old)
			if !tc.forbidden {
				checkErrs(t, errs, nil)
				return
			}
			checkErrs(t, errs, []wantErr{{"spec", field.ErrorTypeForbidden, "updates to statefulset spec for fields other than"}})
			if !strings.Contains(errs[0].Detail, "'revisionHistoryLimit'") {
				t.Fatalf("message %q", errs[0].Detail)
			}
		})
	}
}

func TestStatefulSetStatus(t *testing.T) {
	s := statefulSetStrategy{}
	old := validStatefulSet()
	old.Generation = 3
	old.Status.CollisionCount = ptrTo[int32](1)

	upd := old.DeepCopy()
	upd.Spec.Replicas = ptrTo[int32](2)
	upd.Status.Replicas = 7
	s.PrepareForUpdate(upd, old)
	if upd.Generation != 4 || upd.Status.Replicas != 0 {
		t.Fatalf("update generation %d status %+v", upd.Generation, upd.Status)
	}

	st := old.DeepCopy()
	st.Spec.Replicas = ptrTo[int32](9)
	st.Status = appsv1.StatefulSetStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 2}
	s.PrepareForStatusUpdate(st, old)
	if *st.Spec.Replicas != 1 {
		t.Fatalf("status update changed spec")
	}
	checkErrs(t, s.ValidateStatusUpdate(st, old), []wantErr{
		{"status.availableReplicas", field.ErrorTypeInvalid, "cannot be greater than status.replicas"},
		{"status.availableReplicas", field.ErrorTypeInvalid, "cannot be greater than status.readyReplicas"},
		{"status.collisionCount", field.ErrorTypeInvalid, "cannot be decremented"},
	})
}

func TestStatefulSetTable(t *testing.T) {
	s := statefulSetStrategy{now: fixedClock}
	var heads []string
	for _, c := range s.TableColumns() {
		heads = append(heads, c.Name)
	}
	if !reflect.DeepEqual(heads, []string{"Name", "Ready", "Age", "Containers", "Images"}) {
		t.Fatalf("columns %v", heads)
	}
	set := validStatefulSet()
	set.Spec.Replicas = ptrTo[int32](2)
	set.Status.ReadyReplicas = 1
	set.CreationTimestamp = metav1.NewTime(fixedNow.Add(-75 * time.Second))
	want := []interface{}{"db", "1/2", "75s", "web", "nginx:1.27"}
	if got := s.TableRow(set); !reflect.DeepEqual(got, want) {
		t.Fatalf("row %#v", got)
	}
}
