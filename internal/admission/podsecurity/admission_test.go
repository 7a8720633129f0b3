package podsecurity

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/registry"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var (
	podsResource       = &registry.Resource{Version: "v1", Resource: "pods", Namespaced: true}
	namespacesResource = &registry.Resource{Version: "v1", Resource: "namespaces"}
	deployments        = &registry.Resource{Group: "apps", Version: "v1", Resource: "deployments", Namespaced: true}
)

func namespace(labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns", Labels: labels}}
}

func privilegedPod() *corev1.Pod {
	p := compliant()
	p.Name = "x"
	p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
	return p
}

// recorder collects audit annotations.
type recorder map[string]string

func (r recorder) annotate(_ *apiserver.Attributes, k, v string) { r[k] = v }

func TestAdmitPods(t *testing.T) {
	restricted := map[string]string{EnforceLevelLabel: "restricted"}
	tests := []struct {
		name        string
		labels      map[string]string
		verb        string
		sub         string
		pod, old    *corev1.Pod
		wantErr     string
		wantWarn    string
		wantAudit   string
		wantEnforce string
	}{
		{name: "unlabelled namespace", verb: "create", pod: privilegedPod()},
		{name: "compliant pod", labels: restricted, verb: "create", pod: compliant(), wantEnforce: "restricted:latest"},
		{name: "enforce refuses", labels: restricted, verb: "create", pod: privilegedPod(), wantEnforce: "restricted:latest",
			wantErr: `pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true)`},
		{name: "pinned version named", labels: map[string]string{EnforceLevelLabel: "baseline", EnforceVersionLabel: "v1.30"}, verb: "create", pod: privilegedPod(),
			wantEnforce: "baseline:v1.30",
			wantErr:     `pods "x" is forbidden: violates PodSecurity "baseline:v1.30": privileged (container "c" must not set securityContext.privileged=true)`},
		{name: "invalid enforce label fails closed", labels: map[string]string{EnforceLevelLabel: "bogus"}, verb: "create", pod: privilegedPod(),
			wantEnforce: "restricted:latest",
			wantErr:     `pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true)`},
		{name: "warn only", labels: map[string]string{WarnLevelLabel: "baseline"}, verb: "create", pod: privilegedPod(), wantEnforce: "privileged:latest",
			wantWarn: `would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)`},
		{name: "audit only", labels: map[string]string{AuditLevelLabel: "baseline"}, verb: "create", pod: privilegedPod(), wantEnforce: "privileged:latest",
			wantAudit: `would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)`},
		{name: "refused request gets no warning", labels: map[string]string{EnforceLevelLabel: "baseline", WarnLevelLabel: "baseline"}, verb: "create",
			pod: privilegedPod(), wantEnforce: "baseline:latest",
			wantErr: `pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)`},
		{name: "status subresource ignored", labels: restricted, verb: "update", sub: "status", pod: privilegedPod(), old: privilegedPod()},
		{name: "metadata-only update allowed", labels: restricted, verb: "update", pod: withLabel(privilegedPod()), old: privilegedPod()},
		{name: "image update evaluated", labels: restricted, verb: "update", pod: withImage(privilegedPod()), old: privilegedPod(), wantEnforce: "restricted:latest",
			wantErr: `pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true)`},
		{name: "delete ignored", labels: restricted, verb: "delete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := recorder{}
			adm := &Admission{Namespaces: func(string) (*corev1.Namespace, error) { return namespace(tt.labels), nil }, Annotate: rec.annotate}
			a := &apiserver.Attributes{Resource: podsResource, Verb: tt.verb, Subresource: tt.sub, Namespace: "ns", Name: "x"}
			if tt.pod != nil {
				a.Object = tt.pod
			}
			if tt.old != nil {
				a.Old = tt.old
			}
			err := adm.Admit(a)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v\nwant  %s", err, tt.wantErr)
				}
				if !apierrors.IsForbidden(err) {
					t.Fatalf("error %v is not 403 Forbidden", err)
				}
			}
			if got := strings.Join(a.Warnings, "\n"); got != tt.wantWarn {
				t.Fatalf("warnings %q, want %q", got, tt.wantWarn)
			}
			if rec[AuditViolationsAnnotation] != tt.wantAudit {
				t.Fatalf("audit %q, want %q", rec[AuditViolationsAnnotation], tt.wantAudit)
			}
			if rec[EnforcePolicyAnnotation] != tt.wantEnforce {
				t.Fatalf("enforce-policy %q, want %q", rec[EnforcePolicyAnnotation], tt.wantEnforce)
			}
		})
	}
}

func withLabel(p *corev1.Pod) *corev1.Pod {
	p.Labels = map[string]string{"new": "label"}
	return p
}

func withImage(p *corev1.Pod) *corev1.Pod {
	p.Spec.Containers[0].Image = "other:v2"
	return p
}

func TestAdmitPodNamespaceLookupFails(t *testing.T) {
	adm := &Admission{Namespaces: func(string) (*corev1.Namespace, error) { return nil, errors.New("boom") }}
	err := adm.Admit(&apiserver.Attributes{Resource: podsResource, Verb: "create", Namespace: "ns", Name: "x", Object: compliant()})
	if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), "failed to lookup namespace ns") {
		t.Fatalf("got %v, want an internal error naming the namespace", err)
	}
}

func TestAdmitWorkloadsWarnButNeverRefuse(t *testing.T) {
	labels := map[string]string{EnforceLevelLabel: "restricted", WarnLevelLabel: "restricted"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d"}}
	d.Spec.Template.Spec = privilegedPod().Spec
	rec := recorder{}
	adm := &Admission{Namespaces: func(string) (*corev1.Namespace, error) { return namespace(labels), nil }, Annotate: rec.annotate}
	a := &apiserver.Attributes{Resource: deployments, Verb: "create", Namespace: "ns", Name: "d", Object: d}
	if err := adm.Admit(a); err != nil {
		t.Fatalf("workloads must not be refused: %v", err)
	}
	want := []string{`would violate PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true)`}
	if !reflect.DeepEqual(a.Warnings, want) {
		t.Fatalf("warnings %q, want %q", a.Warnings, want)
	}
	if _, ok := rec[EnforcePolicyAnnotation]; ok {
		t.Fatal("workloads are not enforced, so no enforce-policy annotation")
	}

	scale := &apiserver.Attributes{Resource: deployments, Verb: "update", Subresource: "scale", Namespace: "ns", Name: "d", Object: d, Old: d}
	if err := adm.Admit(scale); err != nil || len(scale.Warnings) != 0 {
		t.Fatalf("subresource: err %v warnings %q, want neither", err, scale.Warnings)
	}
}

func TestAdmitNamespaceLabels(t *testing.T) {
	tests := []struct {
		name      string
		verb      string
		labels    map[string]string
		oldLabels map[string]string
		wantErr   string
	}{
		{"valid create", "create", map[string]string{EnforceLevelLabel: "baseline", WarnVersionLabel: "v1.31"}, nil, ""},
		{"invalid create", "create", map[string]string{EnforceLevelLabel: "strict"}, nil,
			`Namespace "ns" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`},
		{"invalid version", "create", map[string]string{AuditVersionLabel: "1.30"}, nil,
			`Namespace "ns" is invalid: metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "1.30": must be "latest" or "v1.x"`},
		{"new invalid value on update", "update", map[string]string{EnforceLevelLabel: "strict"}, map[string]string{EnforceLevelLabel: "baseline"},
			`Namespace "ns" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`},
		{"unchanged invalid value kept on update", "update", map[string]string{EnforceLevelLabel: "strict", "team": "a"}, map[string]string{EnforceLevelLabel: "strict"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			adm := &Admission{Namespaces: func(string) (*corev1.Namespace, error) { return nil, errors.New("unused") }}
			a := &apiserver.Attributes{Resource: namespacesResource, Verb: tt.verb, Name: "ns", Object: namespace(tt.labels)}
			if tt.verb == "update" {
				a.Old = namespace(tt.oldLabels)
			}
			err := adm.Admit(a)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error %v\nwant  %s", err, tt.wantErr)
			}
			if status, ok := err.(apierrors.APIStatus); !ok || status.Status().Code != http.StatusUnprocessableEntity {
				t.Fatalf("error %v is not 422", err)
			}
		})
	}
}

func TestNamespaceUpdateWarnsAboutExistingPods(t *testing.T) {
	owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "rs-uid", Controller: ptr.To(true)}
	replica := func(name string) *corev1.Pod {
		p := privilegedPod()
		p.Name = name
		p.OwnerReferences = []metav1.OwnerReference{owner}
		return p
	}
	hostNet := compliant()
	hostNet.Name = "solo"
	hostNet.Spec.HostNetwork = true
	pods := []*corev1.Pod{replica("web-b"), replica("web-a"), replica("web-c"), hostNet, compliant()}

	tests := []struct {
		name      string
		old, new  map[string]string
		wantWarns []string
	}{
		{"tightened", nil, map[string]string{EnforceLevelLabel: "baseline"}, []string{
			`existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"`,
			`solo: host namespaces`,
			`web-a (and 2 other pods): privileged`,
		}},
		{"relaxed", map[string]string{EnforceLevelLabel: "restricted"}, map[string]string{EnforceLevelLabel: "baseline"}, nil},
		{"unchanged", map[string]string{EnforceLevelLabel: "baseline"}, map[string]string{EnforceLevelLabel: "baseline", "x": "y"}, nil},
		{"to privileged", map[string]string{EnforceLevelLabel: "baseline"}, map[string]string{EnforceLevelLabel: "privileged"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			adm := &Admission{
				Namespaces: func(string) (*corev1.Namespace, error) { return nil, errors.New("unused") },
				Pods:       func(string) ([]*corev1.Pod, error) { return pods, nil },
			}
			a := &apiserver.Attributes{Resource: namespacesResource, Verb: "update", Name: "ns", Object: namespace(tt.new), Old: namespace(tt.old)}
			if err := adm.Admit(a); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a.Warnings, tt.wantWarns) {
				t.Fatalf("warnings\n%q\nwant\n%q", a.Warnings, tt.wantWarns)
			}
		})
	}
}

func TestExistingPodWarningsBound(t *testing.T) {
	pods := make([]*corev1.Pod, maxExistingPodsChecked+2)
	for i := range pods {
		p := compliant()
		p.Name = "p"
		pods[i] = p
	}
	got := ExistingPodWarnings("ns", LevelVersion{Level: LevelRestricted, Version: LatestVersion()}, pods)
	want := []string{"new PodSecurity enforce level only checked against the first 3000 of 3002 existing pods"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestSignificantPodUpdate(t *testing.T) {
	base := compliant()
	tests := []struct {
		name   string
		mutate func(p *corev1.Pod)
		want   bool
	}{
		{"labels", func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }, false},
		{"tolerations", func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{{Key: "k"}} }, false},
		{"image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "x" }, true},
		{"seccomp annotation", func(p *corev1.Pod) {
			p.Annotations = map[string]string{"container.seccomp.security.alpha.kubernetes.io/c": "unconfined"}
		}, true},
		{"ephemeral container added", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base.DeepCopy()
			tt.mutate(p)
			if got := SignificantPodUpdate(p, base); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
