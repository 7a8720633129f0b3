package pods

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Linux CPU shares and CFS quota, the way the kubelet converts them.
const (
	minShares   = 2
	sharesPer   = 1024
	quotaPeriod = 100000 // µs
	minQuota    = 1000
)

// QOSClass is the pod's quality-of-service class.
func QOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	all := append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq && !req.IsZero() {
				requests[r] = req
			}
			if hasLim && !lim.IsZero() {
				limits[r] = lim
			}
			if !hasLim || (hasReq && req.Cmp(lim) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case len(requests) == 0 && len(limits) == 0:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// CgroupParent is the pod's cgroup, in the kubelet's cgroupfs layout.
func CgroupParent(pod *corev1.Pod) string {
	switch QOSClass(pod) {
	case corev1.PodQOSGuaranteed:
		return "/kubepods/pod" + string(pod.UID)
	case corev1.PodQOSBestEffort:
		return "/kubepods/besteffort/pod" + string(pod.UID)
	}
	return "/kubepods/burstable/pod" + string(pod.UID)
}

// SandboxConfig is the CRI configuration of the pod's sandbox.
func SandboxConfig(pod *corev1.Pod, attempt uint32, logDir string, dns *runtimeapi.DNSConfig) *runtimeapi.PodSandboxConfig {
	labels := map[string]string{}
	for k, v := range pod.Labels {
		labels[k] = v
	}
	labels[labelPodName], labels[labelPodNamespace], labels[labelPodUID] = pod.Name, pod.Namespace, string(pod.UID)
	annotations := map[string]string{}
	for k, v := range pod.Annotations {
		annotations[k] = v
	}
	hostname := pod.Name
	if pod.Spec.Hostname != "" {
		hostname = pod.Spec.Hostname
	}
	if len(hostname) > 63 {
		hostname = hostname[:63]
	}
	if pod.Spec.HostNetwork {
		hostname = "" // runc cannot set a hostname without its own UTS namespace
	}
	var ports []*runtimeapi.PortMapping
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			ports = append(ports, &runtimeapi.PortMapping{Protocol: protocol(p.Protocol), ContainerPort: p.ContainerPort,
				HostPort: p.HostPort, HostIp: p.HostIP})
		}
	}
	sc := &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: namespaces(pod)}
	sc.RunAsUser, sc.RunAsGroup, sc.SupplementalGroups = podIdentity(pod)
	sysctls := map[string]string{}
	if psc := pod.Spec.SecurityContext; psc != nil {
		for _, s := range psc.Sysctls {
			sysctls[s.Name] = s.Value
		}
	}
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID), Attempt: attempt},
		Hostname:     hostname,
		LogDirectory: logDir,
		DnsConfig:    dns,
		PortMappings: ports,
		Labels:       labels,
		Annotations:  annotations,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent:    CgroupParent(pod),
			SecurityContext: sc,
			Sysctls:         sysctls,
		},
	}
}

func protocol(p corev1.Protocol) runtimeapi.Protocol {
	switch p {
	case corev1.ProtocolUDP:
		return runtimeapi.Protocol_UDP
	case corev1.ProtocolSCTP:
		return runtimeapi.Protocol_SCTP
	}
	return runtimeapi.Protocol_TCP
}

func namespaces(pod *corev1.Pod) *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	if pod.Spec.HostNetwork {
		ns.Network = runtimeapi.NamespaceMode_NODE
	}
	if pod.Spec.HostPID {
		ns.Pid = runtimeapi.NamespaceMode_NODE
	} else if pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace {
		ns.Pid = runtimeapi.NamespaceMode_POD
	}
	if pod.Spec.HostIPC {
		ns.Ipc = runtimeapi.NamespaceMode_NODE
	}
	return ns
}

// SpecHash fingerprints the parts of a container spec that, when changed,
// replace a running container (the image, for one).
func SpecHash(c *corev1.Container) string {
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// ContainerInput is what a container's CRI configuration is built from.
type ContainerInput struct {
	Pod        *corev1.Pod
	Container  *corev1.Container
	Init       bool
	Attempt    uint32
	ImageRef   string
	Command    []string
	Args       []string
	Env        []*runtimeapi.KeyValue
	Mounts     []*runtimeapi.Mount
	MemoryHost int64 // node memory, for the OOM score of burstable pods
}

// ContainerConfig is the CRI configuration of one container instance.
func ContainerConfig(in ContainerInput) *runtimeapi.ContainerConfig {
	pod, c := in.Pod, in.Container
	labels := map[string]string{
		labelPodName: pod.Name, labelPodNamespace: pod.Namespace, labelPodUID: string(pod.UID), labelContainerName: c.Name,
	}
	if in.Init {
		labels[labelContainerType] = "init"
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	return &runtimeapi.ContainerConfig{
		Metadata:   &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: in.Attempt},
		Image:      &runtimeapi.ImageSpec{Image: in.ImageRef, UserSpecifiedImage: c.Image},
		Command:    in.Command,
		Args:       in.Args,
		WorkingDir: c.WorkingDir,
		Envs:       in.Env,
		Mounts:     in.Mounts,
		Labels:     labels,
		Annotations: map[string]string{
			annotationHash:     SpecHash(c),
			annotationTermPath: c.TerminationMessagePath,
			annotationGrace:    strconv.FormatInt(grace, 10),
		},
		LogPath:   filepath.Join(c.Name, fmt.Sprintf("%d.log", in.Attempt)),
		Stdin:     c.Stdin,
		StdinOnce: c.StdinOnce,
		Tty:       c.TTY,
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources:       resources(pod, c, in.MemoryHost),
			SecurityContext: securityContext(pod, c),
		},
	}
}

// resources converts requests and limits into cgroup settings.
func resources(pod *corev1.Pod, c *corev1.Container, memoryHost int64) *runtimeapi.LinuxContainerResources {
	r := &runtimeapi.LinuxContainerResources{CpuShares: minShares}
	if req, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
		r.CpuShares = max(req.MilliValue()*sharesPer/1000, minShares)
	} else if lim, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		r.CpuShares = max(lim.MilliValue()*sharesPer/1000, minShares)
	}
	if lim, ok := c.Resources.Limits[corev1.ResourceCPU]; ok && !lim.IsZero() {
		r.CpuPeriod = quotaPeriod
		r.CpuQuota = max(lim.MilliValue()*quotaPeriod/1000, minQuota)
	}
	if lim, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && !lim.IsZero() {
		r.MemoryLimitInBytes = lim.Value()
	}
	r.OomScoreAdj = oomScoreAdj(pod, c, memoryHost)
	return r
}

// oomScoreAdj follows the kubelet's policy, except that Guaranteed pods
// get 0 instead of -997: negative values need privileges the runtime is
// configured not to use (restrict_oom_score_adj).
func oomScoreAdj(pod *corev1.Pod, c *corev1.Container, memoryHost int64) int64 {
	switch QOSClass(pod) {
	case corev1.PodQOSGuaranteed:
		return 0
	case corev1.PodQOSBestEffort:
		return 1000
	}
	req := c.Resources.Requests[corev1.ResourceMemory]
	if memoryHost <= 0 {
		return 999
	}
	adj := 1000 - (1000*req.Value())/memoryHost
	return min(max(adj, 2), 999)
}

func securityContext(pod *corev1.Pod, c *corev1.Container) *runtimeapi.LinuxContainerSecurityContext {
	sc := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: namespaces(pod)}
	sc.RunAsUser, sc.RunAsGroup, sc.SupplementalGroups = podIdentity(pod)
	csc := c.SecurityContext
	if csc == nil {
		return sc
	}
	if csc.RunAsUser != nil {
		sc.RunAsUser = &runtimeapi.Int64Value{Value: *csc.RunAsUser}
	}
	if csc.RunAsGroup != nil {
		sc.RunAsGroup = &runtimeapi.Int64Value{Value: *csc.RunAsGroup}
	}
	if csc.Privileged != nil {
		sc.Privileged = *csc.Privileged
	}
	if csc.ReadOnlyRootFilesystem != nil {
		sc.ReadonlyRootfs = *csc.ReadOnlyRootFilesystem
	}
	if csc.AllowPrivilegeEscalation != nil {
		sc.NoNewPrivs = !*csc.AllowPrivilegeEscalation
	}
	if caps := csc.Capabilities; caps != nil {
		sc.Capabilities = &runtimeapi.Capability{}
		for _, a := range caps.Add {
			sc.Capabilities.AddCapabilities = append(sc.Capabilities.AddCapabilities, string(a))
		}
		for _, d := range caps.Drop {
			sc.Capabilities.DropCapabilities = append(sc.Capabilities.DropCapabilities, string(d))
		}
	}
	return sc
}

// podIdentity is the pod-level user, group and supplementary groups
// (fsGroup included) that sandbox and containers run with.
func podIdentity(pod *corev1.Pod) (user, group *runtimeapi.Int64Value, groups []int64) {
	psc := pod.Spec.SecurityContext
	if psc == nil {
		return nil, nil, nil
	}
	if psc.RunAsUser != nil {
		user = &runtimeapi.Int64Value{Value: *psc.RunAsUser}
	}
	if psc.RunAsGroup != nil {
		group = &runtimeapi.Int64Value{Value: *psc.RunAsGroup}
	}
	groups = append(groups, psc.SupplementalGroups...)
	if psc.FSGroup != nil {
		groups = append(groups, *psc.FSGroup)
	}
	return user, group, groups
}
