package core

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-io/skiff/internal/registry"
)

func podTemplateTest() *corev1.PodTemplate {
	return &corev1.PodTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "tmpl", Namespace: "default"},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "fe"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
		},
	}
}

func TestPodTemplatesResource(t *testing.T) {
	r := PodTemplates()
	if r.Kind != "PodTemplate" || r.Resource != "podtemplates" || r.Singular != "podtemplate" || !r.Namespaced || len(r.Subresources) != 0 {
		t.Errorf("unexpected resource %+v", r)
	}
}

func TestPodTemplateStrategy(t *testing.T) {
	s := PodTemplates().Strategy
	pt := podTemplateTest()
	s.Default(pt)
	if pt.Template.Spec.DNSPolicy != corev1.DNSClusterFirst || pt.Template.Spec.Containers[0].ImagePullPolicy != corev1.PullAlways {
		t.Errorf("template not defaulted: %+v", pt.Template.Spec)
	}
	if errs := s.Validate(pt); len(errs) != 0 {
		t.Errorf("valid template rejected: %v", errs)
	}
	bad := pt.DeepCopy()
	bad.Template.Spec.Containers[0].Name = ""
	rcCheckErrors(t, s.Validate(bad), []string{"template.spec.containers[0].name: Required value"})
	rcCheckErrors(t, s.ValidateUpdate(bad, pt), []string{"template.spec.containers[0].name: Required value"})
}

func TestPodTemplateGeneration(t *testing.T) {
	s := PodTemplates().Strategy
	old := podTemplateTest()
	s.PrepareForCreate(old)
	if old.Generation != 1 {
		t.Fatalf("generation on create = %d", old.Generation)
	}
	same := old.DeepCopy()
	s.PrepareForUpdate(same, old)
	if same.Generation != 1 {
		t.Errorf("unchanged template bumped the generation to %d", same.Generation)
	}
	changed := old.DeepCopy()
	changed.Template.Spec.Containers[0].Image = "nginx:2"
	s.PrepareForUpdate(changed, old)
	if changed.Generation != 2 {
		t.Errorf("changed template generation = %d, want 2", changed.Generation)
	}
}

func TestPodTemplateTable(t *testing.T) {
	s := PodTemplates().Strategy.(registry.TableConvertor)
	cols := s.TableColumns()
	wantCols := []string{"Name", "Containers", "Images", "Pod Labels"}
	if len(cols) != len(wantCols) {
		t.Fatalf("columns %+v", cols)
	}
	for i, c := range cols {
		if c.Name != wantCols[i] || c.Priority != 0 || c.Type != "string" {
			t.Errorf("column %d = %+v", i, c)
		}
	}
	row := s.TableRow(podTemplateTest())
	want := []interface{}{"tmpl", "app", "nginx", "app=web,tier=fe"}
	for i := range want {
		if row[i] != want[i] {
			t.Errorf("cell %d = %v, want %v", i, row[i], want[i])
		}
	}
	empty := podTemplateTest()
	empty.Template.Labels = nil
	if row := s.TableRow(empty); row[3] != "<none>" {
		t.Errorf("labels cell = %v, want <none>", row[3])
	}
}
