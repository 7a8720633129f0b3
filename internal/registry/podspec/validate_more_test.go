package podspec

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestValidatePodSpecDetails covers the less common fields of a pod spec.
func TestValidatePodSpecDetails(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *corev1.PodSpec)
		want   []string
	}{
		{"sysctls", func(s *corev1.PodSpec) {
			s.HostNetwork = true
			s.Containers[0].Ports[0].HostPort = 80
			s.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "net.core.somaxconn"}, {Name: "Bad!"}, {Name: "kernel.shm_rmid_forced"}, {Name: "kernel.shm_rmid_forced"}}
		}, []string{
			`spec.securityContext.sysctls[0].name: Invalid value: "net.core.somaxconn": may not be specified when 'hostNetwork' is true`,
			`spec.securityContext.sysctls[1].name: Invalid value: "Bad!": must have at most 253 characters and match regex ...`,
			`spec.securityContext.sysctls[3].name: Duplicate value: "kernel.shm_rmid_forced"`}},
		{"pod security ids", func(s *corev1.PodSpec) {
			s.SecurityContext.RunAsUser = ptrTo(int64(-1))
			s.SecurityContext.FSGroup = ptrTo(int64(-2))
			s.SecurityContext.SupplementalGroups = []int64{-3}
		}, []string{
			"spec.securityContext.fsGroup: Invalid value: -2: must be between 0 and 2147483647, inclusive",
			"spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
			"spec.securityContext.supplementalGroups[0]: Invalid value: -3: must be between 0 and 2147483647, inclusive"}},
		{"seccomp and apparmor", func(s *corev1.PodSpec) {
			s.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}
			s.Containers[0].SecurityContext = &corev1.SecurityContext{AppArmorProfile: &corev1.AppArmorProfile{Type: "Custom"}}
		}, []string{
			"spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost",
			`spec.containers[0].securityContext.appArmorProfile.type: Unsupported value: "Custom": supported values: "Localhost", "RuntimeDefault", "Unconfined"`}},
		{"shareProcessNamespace with hostPID", func(s *corev1.PodSpec) {
			s.ShareProcessNamespace = ptrTo(true)
			s.HostPID = true
		}, []string{"spec.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled"}},
		{"user namespaces with host network", func(s *corev1.PodSpec) {
			s.HostUsers = ptrTo(false)
			s.HostIPC = true
		}, []string{"spec.HostIPC: Forbidden: when `pod.Spec.HostUsers` is false"}},
		{"linux pod with windows options", func(s *corev1.PodSpec) {
			s.OS = &corev1.PodOS{Name: corev1.Linux}
			s.Containers[0].SecurityContext = &corev1.SecurityContext{WindowsOptions: &corev1.WindowsSecurityContextOptions{}}
		}, []string{"spec.containers[0].securityContext.windowsOptions: Forbidden: windows options cannot be set for a linux pod"}},
		{"windows pod with linux options", func(s *corev1.PodSpec) {
			s.OS = &corev1.PodOS{Name: corev1.Windows}
			s.SecurityContext.RunAsUser = ptrTo(int64(1000))
			s.HostPID = true
		}, []string{"spec.securityContext.runAsUser: Forbidden: cannot be set for a windows pod", "spec.hostPID: Forbidden: cannot be set for a windows pod"}},
		{"dns config", func(s *corev1.PodSpec) {
			s.DNSConfig = &corev1.PodDNSConfig{
				Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9", "bogus"},
				Searches:    []string{"my_domain.local.", ".", "bad domain"},
				Options:     []corev1.PodDNSConfigOption{{}},
			}
		}, []string{
			`spec.dnsConfig.nameservers: Invalid value: ["1.1.1.1","8.8.8.8","9.9.9.9","bogus"]: must not have more than 3 nameservers`,
			`spec.dnsConfig.nameservers[3]: Invalid value: "bogus": must be a valid IP address...`,
			`spec.dnsConfig.searches[2]: Invalid value: "bad domain": ...`,
			"spec.dnsConfig.options[0]: Required value: must not be empty"}},
		{"node selector requirements", func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{
						{Key: "zone", Operator: corev1.NodeSelectorOpIn},
						{Key: "zone", Operator: corev1.NodeSelectorOpExists, Values: []string{"a"}},
						{Key: "zone", Operator: "Near"}},
					MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.uid", Operator: corev1.NodeSelectorOpIn, Values: []string{"x"}}},
				}}},
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 101}},
			}}
		}, []string{
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
			`spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[2].operator: Invalid value: "Near": not a valid selector operator`,
			`spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key: Invalid value: "metadata.uid": not a valid field selector key`,
			"spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 101: must be in the range 1-100"}},
		{"pod affinity label keys", func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 10, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "zone", MatchLabelKeys: []string{"app"}}}}}}
		}, []string{"spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.matchLabelKeys: Forbidden: must not be specified when labelSelector is not set"}},
		{"duplicate spread constraints", func(s *corev1.PodSpec) {
			c := corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.ScheduleAnyway, MinDomains: ptrTo(int32(2)),
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, MatchLabelKeys: []string{"app"}}
			s.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{c, c}
		}, []string{
			`spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: Duplicate value: "{zone, ScheduleAnyway}"`,
			"spec.topologySpreadConstraints[0].minDomains: Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway",
			"spec.topologySpreadConstraints[1].minDomains: Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway",
			`spec.topologySpreadConstraints[0].matchLabelKeys[0]: Invalid value: "app": exists in both matchLabelKeys and labelSelector`,
			`spec.topologySpreadConstraints[1].matchLabelKeys[0]: Invalid value: "app": exists in both matchLabelKeys and labelSelector`}},
		{"resource claims", func(s *corev1.PodSpec) {
			s.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: ptrTo("c")}, {Name: "gpu", ResourceClaimTemplateName: ptrTo("t")}, {Name: "none"}}
			s.Containers[0].Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}, {Name: "other"}}
		}, []string{
			`spec.resourceClaims[1].name: Duplicate value: "gpu"`,
			"spec.resourceClaims[2]: Invalid value: {\"name\":\"none\"}: must specify one of: `resourceClaimName`, `resourceClaimTemplateName`",
			`spec.containers[0].resources.claims[1]: Not found: "other": must be one of the names in pod.spec.resourceClaims: gpu, none`}},
		{"huge pages", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Limits = corev1.ResourceList{"hugepages-2Mi": resource.MustParse("3Mi")}
			s.Containers[0].Resources.Requests = corev1.ResourceList{"hugepages-2Mi": resource.MustParse("3Mi")}
		}, []string{
			`spec.containers[0].resources.limits[hugepages-2Mi]: Invalid value: "3Mi": 3Mi is not positive integer multiple of hugepages-2Mi`,
			`spec.containers[0].resources.requests[hugepages-2Mi]: Invalid value: "3Mi": 3Mi is not positive integer multiple of hugepages-2Mi`,
			"spec.containers[0].resources: Forbidden: HugePages require cpu or memory"}},
		{"pod-level resources", func(s *corev1.PodSpec) {
			s.Resources = &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceEphemeralStorage: resource.MustParse("1Gi")}}
			s.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")}
			s.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
		}, []string{
			`spec.resources.limits[ephemeral-storage]: Unsupported value: "ephemeral-storage": supported values: "cpu", "memory", "hugepages-*"`,
			`spec.resources.requests[cpu]: Invalid value: "100m": must be greater than or equal to aggregate container requests of 200m`,
			`spec.resources.containers[0][cpu].limits: Invalid value: "2": must be less than or equal to pod limits of 1`}},
		{"http probe details", func(s *corev1.PodSpec) {
			s.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Port: intstr.FromString("web_port"), Scheme: "FTP", HTTPHeaders: []corev1.HTTPHeader{{Name: "bad header"}}}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3, TerminationGracePeriodSeconds: ptrTo(int64(5))}
		}, []string{
			"spec.containers[0].readinessProbe.httpGet.path: Required value",
			`spec.containers[0].readinessProbe.httpGet.port: Invalid value: "web_port": ...`,
			`spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"`,
			`spec.containers[0].readinessProbe.httpGet.httpHeaders: Invalid value: "bad header": ...`,
			"spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes"}},
		{"grpc and tcp ports", func(s *corev1.PodSpec) {
			s.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 0}}, SuccessThreshold: 1}
			s.Containers[0].StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(70000)}}, SuccessThreshold: 1}
		}, []string{
			"spec.containers[0].livenessProbe.grpc.port: Invalid value: 0: must be between 1 and 65535, inclusive",
			"spec.containers[0].startupProbe.tcpSocket.port: Invalid value: 70000: must be between 1 and 65535, inclusive"}},
		{"resource field ref divisor", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{
				{Name: "CPU", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: resource.MustParse("10m")}}},
				{Name: "GPU", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.gpu"}}},
			}
		}, []string{
			`spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: Invalid value: "limits.cpu": only divisor's values 1m and 1 are supported with the cpu resource`,
			`spec.containers[0].env[1].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": supported values: "limits.cpu", ...`}},
		{"mount propagation", func(s *corev1.PodSpec) {
			s.Containers[0].VolumeMounts[0].MountPropagation = ptrTo(corev1.MountPropagationBidirectional)
			s.Containers[0].VolumeMounts[0].RecursiveReadOnly = ptrTo(corev1.RecursiveReadOnlyEnabled)
		}, []string{
			"spec.containers[0].volumeMounts.mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers",
			"spec.containers[0].volumeMounts.recursiveReadOnly: Forbidden: may only be specified when readOnly is true",
			"spec.containers[0].volumeMounts.recursiveReadOnly: Forbidden: may only be specified when mountPropagation is None or not specified"}},
		{"volume devices need PVCs", func(s *corev1.PodSpec) {
			s.Containers[0].VolumeDevices = []corev1.VolumeDevice{{Name: "data", DevicePath: "/data"}}
		}, []string{
			`spec.containers[0].volumeMounts[0].name: Invalid value: "data": must not already exist in volumeDevices`,
			`spec.containers[0].volumeMounts[0].mountPath: Invalid value: "/data": must not already exist as a path in volumeDevices`,
			`spec.containers[0].volumeDevices[0].name: Invalid value: "data": can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode`,
			`spec.containers[0].volumeDevices[0].name: Invalid value: "data": must not already exist in volumeMounts`,
			`spec.containers[0].volumeDevices[0].devicePath: Invalid value: "/data": must not already exist as a path in volumeMounts`}},
		{"resize policy", func(s *corev1.PodSpec) {
			s.RestartPolicy = corev1.RestartPolicyNever
			s.Containers[0].ResizePolicy = []corev1.ContainerResizePolicy{
				{ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.RestartContainer},
				{ResourceName: "disk", RestartPolicy: corev1.NotRequired}}
		}, []string{
			`spec.containers[0].resizePolicy: Invalid value: "RestartContainer": must be 'NotRequired' when ` + "`restartPolicy`" + ` is 'Never'`,
			`spec.containers[0].resizePolicy: Unsupported value: "disk": supported values: "cpu", "memory"`}},
		{"host aliases and readiness gates", func(s *corev1.PodSpec) {
			s.HostAliases = []corev1.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"Bad_Host"}}}
			s.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "bad gate"}}
			s.SchedulingGates = []corev1.PodSchedulingGate{{Name: "a"}, {Name: "a"}}
		}, []string{
			`spec.hostAliases[0].hostnames[0]: Invalid value: "Bad_Host": ...`,
			`spec.readinessGates[0].conditionType: Invalid value: "bad gate": ...`,
			`spec.schedulingGates[1]: Duplicate value: "a"`}},
		{"image pull secrets and priority", func(s *corev1.PodSpec) {
			s.PriorityClassName = "High"
			s.PreemptionPolicy = ptrTo(corev1.PreemptionPolicy("Sometimes"))
			s.RuntimeClassName = ptrTo("Kata")
		}, []string{
			`spec.priorityClassName: Invalid value: "High": ...`,
			`spec.runtimeClassName: Invalid value: "Kata": ...`,
			`spec.preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"`}},
		{"hostname override", func(s *corev1.PodSpec) {
			s.HostnameOverride = ptrTo("my.host")
			s.SetHostnameAsFQDN = ptrTo(true)
		}, []string{"spec.hostnameOverride: Invalid value: \"my.host\": Cannot set both `hostnameOverride` and `setHostnameAsFQDN`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := validSpec()
			tt.mutate(&spec)
			checkErrors(t, ValidatePodSpec(&spec, field.NewPath("spec")), tt.want)
		})
	}
}

func TestValidatePodAnnotations(t *testing.T) {
	spec := validSpec()
	tests := []struct {
		annotations map[string]string
		want        []string
	}{
		{map[string]string{"controller.kubernetes.io/pod-deletion-cost": "-20"}, nil},
		{map[string]string{"controller.kubernetes.io/pod-deletion-cost": "99999999999"},
			[]string{`a[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "99999999999": must be a 32bit integer`}},
		{map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}, nil},
		{map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "custom"},
			[]string{`a.seccomp.security.alpha.kubernetes.io/pod: Invalid value: "custom": must be a valid seccomp profile`}},
		{map[string]string{"container.apparmor.security.beta.kubernetes.io/other": "bogus"},
			[]string{`a[container.apparmor.security.beta.kubernetes.io/other]: Invalid value: "other": container not found`,
				`a[container.apparmor.security.beta.kubernetes.io/other]: Invalid value: "bogus": invalid AppArmor profile name: "bogus"`}},
	}
	for _, tt := range tests {
		checkErrors(t, validatePodAnnotations(tt.annotations, &spec, field.NewPath("a")), tt.want)
	}
}

func TestSpecDiff(t *testing.T) {
	old := validSpec()
	upd := old.DeepCopy()
	upd.NodeName = "n1"
	upd.Containers[0].Ports[0].ContainerPort = 81
	got := specDiff(&old, upd)
	for _, want := range []string{"- spec.containers[0].ports[0].containerPort: 80", "+ spec.containers[0].ports[0].containerPort: 81", `+ spec.nodeName: "n1"`} {
		if !strings.Contains(got, want) {
			t.Errorf("diff %q lacks %q", got, want)
		}
	}
	if specDiff(&old, old.DeepCopy()) != "" {
		t.Errorf("equal specs produce a diff")
	}
}
