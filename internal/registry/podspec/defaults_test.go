package podspec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestDefaultPullPolicy(t *testing.T) {
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"nginx", corev1.PullAlways},
		{"nginx:latest", corev1.PullAlways},
		{"nginx:1.25", corev1.PullIfNotPresent},
		{"nginx@" + digest, corev1.PullIfNotPresent},
		{"nginx:latest@" + digest, corev1.PullAlways},
		{"nginx:1.25@" + digest, corev1.PullIfNotPresent},
		{"library/nginx", corev1.PullAlways},
		{"localhost:5000/app", corev1.PullAlways},
		{"localhost:5000/app:v2", corev1.PullIfNotPresent},
		{"registry.example.com:443/team/app:latest", corev1.PullAlways},
		{"registry.example.com/team/app:v1.0.0-rc_1", corev1.PullIfNotPresent},
		{"NGINX", corev1.PullIfNotPresent}, // does not parse
		{"", corev1.PullIfNotPresent},
		{" nginx", corev1.PullIfNotPresent},
	}
	for _, tt := range tests {
		if got := defaultPullPolicy(tt.image); got != tt.want {
			t.Errorf("defaultPullPolicy(%q) = %s, want %s", tt.image, got, tt.want)
		}
	}
}

func TestDefaultPodSpec(t *testing.T) {
	spec := &corev1.PodSpec{
		Volumes: []corev1.Volume{
			{Name: "none"},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
			{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
			{Name: "hp", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
			{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "n", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
			}}}},
		},
		Containers: []corev1.Container{{
			Name:  "app",
			Image: "nginx:1.25",
			Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			Env: []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.0001")}},
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9000}}},
			Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
				HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("http")}}},
		}},
	}
	DefaultPodSpec(spec)

	checks := []struct {
		name      string
		got, want interface{}
	}{
		{"restartPolicy", spec.RestartPolicy, corev1.RestartPolicyAlways},
		{"dnsPolicy", spec.DNSPolicy, corev1.DNSClusterFirst},
		{"schedulerName", spec.SchedulerName, "default-scheduler"},
		{"terminationGracePeriodSeconds", *spec.TerminationGracePeriodSeconds, int64(30)},
		{"securityContext", *spec.SecurityContext, corev1.PodSecurityContext{}},
		{"enableServiceLinks is pod-only", spec.EnableServiceLinks == nil, true},
		{"volume without source", spec.Volumes[0].EmptyDir != nil, true},
		{"secret defaultMode", *spec.Volumes[1].Secret.DefaultMode, int32(420)},
		{"configMap defaultMode", *spec.Volumes[2].ConfigMap.DefaultMode, int32(420)},
		{"hostPath type", *spec.Volumes[3].HostPath.Type, corev1.HostPathUnset},
		{"projected defaultMode", *spec.Volumes[4].Projected.DefaultMode, int32(420)},
		{"token expiration", *spec.Volumes[4].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds, int64(3600)},
		{"projected downward apiVersion", spec.Volumes[4].Projected.Sources[1].DownwardAPI.Items[0].FieldRef.APIVersion, "v1"},
		{"imagePullPolicy", spec.Containers[0].ImagePullPolicy, corev1.PullIfNotPresent},
		{"terminationMessagePath", spec.Containers[0].TerminationMessagePath, "/dev/termination-log"},
		{"terminationMessagePolicy", spec.Containers[0].TerminationMessagePolicy, corev1.TerminationMessageReadFile},
		{"port protocol", spec.Containers[0].Ports[0].Protocol, corev1.ProtocolTCP},
		{"env fieldRef apiVersion", spec.Containers[0].Env[0].ValueFrom.FieldRef.APIVersion, "v1"},
		{"limits rounded up to milli", spec.Containers[0].Resources.Limits.Cpu().String(), "1m"},
		{"requests are pod-only", spec.Containers[0].Resources.Requests == nil, true},
		{"probe timeout", spec.Containers[0].LivenessProbe.TimeoutSeconds, int32(1)},
		{"probe period", spec.Containers[0].LivenessProbe.PeriodSeconds, int32(10)},
		{"probe success", spec.Containers[0].LivenessProbe.SuccessThreshold, int32(1)},
		{"probe failure", spec.Containers[0].LivenessProbe.FailureThreshold, int32(3)},
		{"httpGet path", spec.Containers[0].LivenessProbe.HTTPGet.Path, "/"},
		{"httpGet scheme", spec.Containers[0].LivenessProbe.HTTPGet.Scheme, corev1.URISchemeHTTP},
		{"grpc service", *spec.Containers[0].ReadinessProbe.GRPC.Service, ""},
		{"preStop httpGet path", spec.Containers[0].Lifecycle.PreStop.HTTPGet.Path, "/"},
	}
	for _, c := range checks {
		if !apiequality.Semantic.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	again := spec.DeepCopy()
	DefaultPodSpec(again)
	if !apiequality.Semantic.DeepEqual(spec, again) {
		t.Errorf("DefaultPodSpec is not idempotent")
	}
}

func TestDefaultPodSpecKeepsSetValues(t *testing.T) {
	grace := int64(5)
	spec := &corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicyNever,
		DNSPolicy:                     corev1.DNSDefault,
		TerminationGracePeriodSeconds: &grace,
		SchedulerName:                 "mine",
		Containers: []corev1.Container{{
			Name: "a", Image: "busybox", ImagePullPolicy: corev1.PullNever,
			TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			Ports:                    []corev1.ContainerPort{{ContainerPort: 53, Protocol: corev1.ProtocolUDP}},
		}},
	}
	DefaultPodSpec(spec)
	if spec.RestartPolicy != corev1.RestartPolicyNever || spec.DNSPolicy != corev1.DNSDefault ||
		*spec.TerminationGracePeriodSeconds != 5 || spec.SchedulerName != "mine" {
		t.Errorf("pod-level values overwritten: %+v", spec)
	}
	c := spec.Containers[0]
	if c.ImagePullPolicy != corev1.PullNever || c.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError || c.Ports[0].Protocol != corev1.ProtocolUDP {
		t.Errorf("container values overwritten: %+v", c)
	}
	DefaultPodSpec(nil) // must not panic
	DefaultPodTemplateSpec(nil)
}

func TestDefaultPod(t *testing.T) {
	negative := int64(-5)
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		HostNetwork:                   true,
		TerminationGracePeriodSeconds: &negative,
		InitContainers: []corev1.Container{{Name: "init", Image: "busybox",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}},
		Containers: []corev1.Container{{
			Name: "app", Image: "nginx",
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 9090, HostPort: 9090}},
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")},
			},
		}},
	}}
	DefaultPod(pod)
	app := pod.Spec.Containers[0]
	if got := app.Resources.Requests.Cpu().String(); got != "500m" {
		t.Errorf("explicit cpu request changed to %s", got)
	}
	if got := app.Resources.Requests.Memory().String(); got != "1Gi" {
		t.Errorf("memory request = %s, want 1Gi from the limit", got)
	}
	if got := pod.Spec.InitContainers[0].Resources.Requests.Memory().String(); got != "64Mi" {
		t.Errorf("init memory request = %s, want 64Mi", got)
	}
	if pod.Spec.EnableServiceLinks == nil || !*pod.Spec.EnableServiceLinks {
		t.Errorf("enableServiceLinks = %v, want true", pod.Spec.EnableServiceLinks)
	}
	if app.Ports[0].HostPort != 8080 || app.Ports[1].HostPort != 9090 {
		t.Errorf("host ports = %d,%d, want 8080,9090", app.Ports[0].HostPort, app.Ports[1].HostPort)
	}
	if *pod.Spec.TerminationGracePeriodSeconds != 1 {
		t.Errorf("negative grace period became %d, want 1", *pod.Spec.TerminationGracePeriodSeconds)
	}
	if pod.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("spec defaults not applied")
	}
	again := pod.DeepCopy()
	DefaultPod(again)
	if !apiequality.Semantic.DeepEqual(pod, again) {
		t.Errorf("DefaultPod is not idempotent")
	}
}

func TestDefaultPodLevelRequests(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		Resources: &corev1.ResourceRequirements{Limits: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("2Gi")}},
		Containers: []corev1.Container{
			{Name: "a", Image: "x", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("300m")}}},
			{Name: "b", Image: "x", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")}}},
		},
	}}
	DefaultPod(pod)
	reqs := pod.Spec.Resources.Requests
	if got := reqs.Cpu().String(); got != "500m" {
		t.Errorf("pod cpu request = %s, want the container sum 500m", got)
	}
	if got := reqs.Memory().String(); got != "2Gi" {
		t.Errorf("pod memory request = %s, want the limit 2Gi", got)
	}
}
