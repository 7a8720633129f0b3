package podspec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidatePodSpec(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *corev1.PodSpec)
		want   []string
	}{
		{"valid", func(s *corev1.PodSpec) {}, nil},
		{"no containers", func(s *corev1.PodSpec) { s.Containers = nil }, []string{"spec.containers: Required value"}},
		{"missing container name", func(s *corev1.PodSpec) { s.Containers[0].Name = "" }, []string{"spec.containers[0].name: Required value"}},
		{"container name not a DNS label", func(s *corev1.PodSpec) { s.Containers[0].Name = "App_1" },
			[]string{`spec.containers[0].name: Invalid value: "App_1": a lowercase RFC 1123 label must consist of...`}},
		{"duplicate container names", func(s *corev1.PodSpec) { s.Containers = append(s.Containers, s.Containers[0]) },
			[]string{`spec.containers[1].name: Duplicate value: "app"`}},
		{"init container named like an app container", func(s *corev1.PodSpec) {
			c := s.Containers[0]
			c.Ports = nil
			s.InitContainers = []corev1.Container{c}
		}, []string{`spec.initContainers[0].name: Duplicate value: "app"`}},
		{"missing image", func(s *corev1.PodSpec) { s.Containers[0].Image = "" }, []string{"spec.containers[0].image: Required value"}},
		{"port zero", func(s *corev1.PodSpec) { s.Containers[0].Ports[0].ContainerPort = 0 },
			[]string{"spec.containers[0].ports[0].containerPort: Required value"}},
		{"port out of range", func(s *corev1.PodSpec) { s.Containers[0].Ports[0].ContainerPort = 70000 },
			[]string{"spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"}},
		{"duplicate port name", func(s *corev1.PodSpec) {
			s.Containers[0].Ports = append(s.Containers[0].Ports, corev1.ContainerPort{Name: "http", ContainerPort: 81, Protocol: corev1.ProtocolTCP})
		}, []string{`spec.containers[0].ports[1].name: Duplicate value: "http"`}},
		{"bad port name", func(s *corev1.PodSpec) { s.Containers[0].Ports[0].Name = "HTTP_PORT" },
			[]string{`spec.containers[0].ports[0].name: Invalid value: "HTTP_PORT": ...`,
				`spec.containers[0].ports[0].name: Invalid value: "HTTP_PORT": must contain at least one letter (a-z)`}},
		{"bad protocol", func(s *corev1.PodSpec) { s.Containers[0].Ports[0].Protocol = "FOO" },
			[]string{`spec.containers[0].ports[0].protocol: Unsupported value: "FOO": supported values: "SCTP", "TCP", "UDP"`}},
		{"host port conflict", func(s *corev1.PodSpec) {
			s.Containers[0].Ports = []corev1.ContainerPort{
				{ContainerPort: 80, HostPort: 8080, Protocol: corev1.ProtocolTCP},
				{ContainerPort: 81, HostPort: 8080, Protocol: corev1.ProtocolTCP}}
		}, []string{`spec.containers[0].ports[1].hostPort: Duplicate value: "TCP//8080"`}},
		{"env var with '='", func(s *corev1.PodSpec) { s.Containers[0].Env = []corev1.EnvVar{{Name: "A=B"}} },
			[]string{`spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`}},
		{"env var with dots is fine", func(s *corev1.PodSpec) { s.Containers[0].Env = []corev1.EnvVar{{Name: "my.var-1"}} }, nil},
		{"env valueFrom and value", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "x", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}}}
		}, []string{"spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty"}},
		{"env fieldRef unsupported path", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.phase"}}}}
		}, []string{`spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": supported values: "metadata.name", ...`}},
		{"env fieldRef unknown path", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.bogus"}}}}
		}, []string{`spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.bogus": error converting fieldPath: field label not supported: spec.bogus`}},
		{"env label subscript", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels['app']"}}}}
		}, nil},
		{"env configMapKeyRef without key", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
				ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}}}
		}, []string{"spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value"}},
		{"envFrom without source", func(s *corev1.PodSpec) { s.Containers[0].EnvFrom = []corev1.EnvFromSource{{Prefix: "P_"}} },
			[]string{"spec.containers[0].envFrom: Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`"}},
		{"volume without source", func(s *corev1.PodSpec) { s.Volumes[0].VolumeSource = corev1.VolumeSource{} },
			[]string{"spec.volumes[0]: Required value: must specify a volume type",
				`spec.containers[0].volumeMounts[0].name: Not found: "data"`}},
		{"volume with two sources", func(s *corev1.PodSpec) {
			s.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/tmp", Type: ptrTo(corev1.HostPathUnset)}
		}, []string{"spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type",
			`spec.containers[0].volumeMounts[0].name: Not found: "data"`}},
		{"duplicate volume names", func(s *corev1.PodSpec) { s.Volumes = append(s.Volumes, s.Volumes[0]) },
			[]string{`spec.volumes[1].name: Duplicate value: "data"`}},
		{"volume name not a DNS label", func(s *corev1.PodSpec) {
			s.Volumes[0].Name = "Data"
			s.Containers[0].VolumeMounts[0].Name = "Data"
		}, []string{`spec.volumes[0].name: Invalid value: "Data": ...`, `spec.containers[0].volumeMounts[0].name: Not found: "Data"`}},
		{"secret volume without name", func(s *corev1.PodSpec) {
			s.Volumes[0].VolumeSource = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{DefaultMode: ptrTo(int32(0o1777))}}
		}, []string{"spec.volumes[0].secret.secretName: Required value",
			"spec.volumes[0].secret.defaultMode: Invalid value: 1023: must be a number between 0 and 0777 (octal), both inclusive",
			`spec.containers[0].volumeMounts[0].name: Not found: "data"`}},
		{"mount of a missing volume", func(s *corev1.PodSpec) { s.Containers[0].VolumeMounts[0].Name = "missing" },
			[]string{`spec.containers[0].volumeMounts[0].name: Not found: "missing"`}},
		{"mount without path", func(s *corev1.PodSpec) { s.Containers[0].VolumeMounts[0].MountPath = "" },
			[]string{"spec.containers[0].volumeMounts[0].mountPath: Required value"}},
		{"bad restartPolicy", func(s *corev1.PodSpec) { s.RestartPolicy = "Sometimes" },
			[]string{`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`}},
		{"bad dnsPolicy", func(s *corev1.PodSpec) { s.DNSPolicy = "Google" },
			[]string{`spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"`}},
		{"dnsPolicy None needs config", func(s *corev1.PodSpec) { s.DNSPolicy = corev1.DNSNone },
			[]string{"spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"}},
		{"requests above limits", func(s *corev1.PodSpec) {
			s.Containers[0].Resources = corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}
		}, []string{`spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`}},
		{"negative quantity", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("-1Gi")}
		}, []string{`spec.containers[0].resources.requests[memory]: Invalid value: "-1Gi": must be greater than or equal to 0`}},
		{"unknown resource", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Requests = corev1.ResourceList{"gpu": resource.MustParse("1")}
		}, []string{`spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified`,
			`spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers`}},
		{"extended resource needs equal limit", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Requests = corev1.ResourceList{"example.com/gpu": resource.MustParse("1")}
		}, []string{"spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"}},
		{"probe with two handlers", func(s *corev1.PodSpec) {
			s.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				Exec:      &corev1.ExecAction{Command: []string{"true"}},
				TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
		}, []string{"spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"}},
		{"probe without handler", func(s *corev1.PodSpec) {
			s.Containers[0].ReadinessProbe = &corev1.Probe{TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
		}, []string{"spec.containers[0].readinessProbe: Required value: must specify a handler type"}},
		{"liveness success threshold", func(s *corev1.PodSpec) {
			s.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 2, FailureThreshold: 3}
		}, []string{"spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"}},
		{"negative probe period", func(s *corev1.PodSpec) {
			s.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
				TimeoutSeconds: 1, PeriodSeconds: -1, SuccessThreshold: 1, FailureThreshold: 3}
		}, []string{"spec.containers[0].readinessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0"}},
		{"init container with probe", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", ImagePullPolicy: corev1.PullAlways,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				LivenessProbe:            &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, SuccessThreshold: 1}}}
		}, []string{"spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"}},
		{"sidecar with probe", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "proxy", Image: "envoy", ImagePullPolicy: corev1.PullAlways,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				RestartPolicy:            ptrTo(corev1.ContainerRestartPolicyAlways),
				LivenessProbe:            &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, SuccessThreshold: 1}}}
		}, nil},
		{"restartPolicy on app container", func(s *corev1.PodSpec) {
			s.Containers[0].RestartPolicy = ptrTo(corev1.ContainerRestartPolicyAlways)
		}, []string{"spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"}},
		{"bad node selector", func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"bad key": "v"} },
			[]string{`spec.nodeSelector: Invalid value: "bad key": ...`}},
		{"toleration Exists with value", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"}}
		}, []string{"spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'"}},
		{"toleration without key", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpEqual, Value: "v"}}
		}, []string{"spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\""}},
		{"toleration bad effect and seconds", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Effect: "Never", TolerationSeconds: ptrTo(int64(5))}}
		}, []string{"spec.tolerations[0].effect: Invalid value: \"Never\": effect must be 'NoExecute' when `tolerationSeconds` is set",
			`spec.tolerations[0].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`}},
		{"bad toleration operator", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "k", Operator: "In"}}
		}, []string{`spec.tolerations[0].operator: Unsupported value: "In": supported values: "Equal", "Exists"`}},
		{"empty node affinity terms", func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{}}}
		}, []string{"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term"}},
		{"pod affinity without topology key", func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
				{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}}}
		}, []string{"spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty",
			`spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: "": name part must be non-empty`,
			`spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: "": name part must consist of...`}},
		{"bad hostname", func(s *corev1.PodSpec) { s.Hostname = "Host_1" }, []string{`spec.hostname: Invalid value: "Host_1": ...`}},
		{"bad subdomain", func(s *corev1.PodSpec) { s.Subdomain = "a.b" }, []string{`spec.subdomain: Invalid value: "a.b": ...`}},
		{"activeDeadlineSeconds zero", func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptrTo(int64(0)) },
			[]string{"spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"}},
		{"bad serviceAccountName", func(s *corev1.PodSpec) { s.ServiceAccountName = "Bad_SA" },
			[]string{`spec.serviceAccountName: Invalid value: "Bad_SA": ...`}},
		{"missing grace period", func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = nil },
			[]string{"spec.terminationGracePeriodSeconds: Required value"}},
		{"sleep beyond grace period", func(s *corev1.PodSpec) {
			s.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 60}}}
		}, []string{"spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be non-negative and less than terminationGracePeriodSeconds (30)"}},
		{"topology spread", func(s *corev1.PodSpec) {
			s.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 0, TopologyKey: "zone", WhenUnsatisfiable: "Maybe"}}
		}, []string{"spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
			`spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: "DoNotSchedule", "ScheduleAnyway"`}},
		{"security context", func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptrTo(true), AllowPrivilegeEscalation: ptrTo(false)}
		}, []string{"spec.containers[0].securityContext: Invalid value: {\"privileged\":true,\"allowPrivilegeEscalation\":false}: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"}},
		{"bad os", func(s *corev1.PodSpec) { s.OS = &corev1.PodOS{Name: "plan9"} },
			[]string{`spec.os: Unsupported value: "plan9": supported values: "linux", "windows"`}},
		{"ephemeral container clashing name", func(s *corev1.PodSpec) {
			s.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "app", Image: "busybox", ImagePullPolicy: corev1.PullAlways, TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				Ports: []corev1.ContainerPort{{ContainerPort: 1, Protocol: corev1.ProtocolTCP}}}}}
		}, []string{`spec.ephemeralContainers[0].name: Duplicate value: "app"`,
			"spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := validSpec()
			tt.mutate(&spec)
			checkErrors(t, ValidatePodSpec(&spec, field.NewPath("spec")), tt.want)
		})
	}
}

func TestValidatePodSpecNil(t *testing.T) {
	checkErrors(t, ValidatePodSpec(nil, field.NewPath("spec")), []string{"spec: Required value"})
	checkErrors(t, ValidatePodTemplateSpec(nil, field.NewPath("spec", "template")), []string{"spec.template: Required value"})
}

func TestValidatePodTemplateSpec(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *corev1.PodTemplateSpec)
		want   []string
	}{
		{"valid", func(*corev1.PodTemplateSpec) {}, nil},
		{"bad label", func(t *corev1.PodTemplateSpec) { t.Labels = map[string]string{"app": "bad value"} },
			[]string{`spec.template.labels: Invalid value: "bad value": ...`}},
		{"bad annotation key", func(t *corev1.PodTemplateSpec) { t.Annotations = map[string]string{"bad key": "v"} },
			[]string{`spec.template.annotations: Invalid value: "bad key": ...`}},
		{"spec errors use the template path", func(t *corev1.PodTemplateSpec) { t.Spec.Containers[0].Image = "" },
			[]string{"spec.template.spec.containers[0].image: Required value"}},
		{"whitespace image allowed in templates", func(t *corev1.PodTemplateSpec) { t.Spec.Containers[0].Image = " " }, nil},
		{"restartPolicy Never is the workload's business", func(t *corev1.PodTemplateSpec) { t.Spec.RestartPolicy = corev1.RestartPolicyNever }, nil},
		{"ephemeral containers", func(t *corev1.PodTemplateSpec) {
			t.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debug", Image: "busybox", ImagePullPolicy: corev1.PullAlways, TerminationMessagePolicy: corev1.TerminationMessageReadFile}}}
		}, []string{"spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"}},
		{"bad deletion cost", func(t *corev1.PodTemplateSpec) {
			t.Annotations = map[string]string{"controller.kubernetes.io/pod-deletion-cost": "+1"}
		}, []string{`spec.template.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "+1": must be a 32bit integer`}},
		{"hostNetwork without host port", func(t *corev1.PodTemplateSpec) { t.Spec.HostNetwork = true }, nil},
		{"hostNetwork with other host port", func(t *corev1.PodTemplateSpec) {
			t.Spec.HostNetwork = true
			t.Spec.Containers[0].Ports[0].HostPort = 81
		}, []string{"spec.template.spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: validSpec()}
			tt.mutate(tmpl)
			checkErrors(t, ValidatePodTemplateSpec(tmpl, field.NewPath("spec", "template")), tt.want)
		})
	}
}
