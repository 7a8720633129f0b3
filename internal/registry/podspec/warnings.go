package podspec

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Warnings returns the warnings Kubernetes sends (without refusing the
// request) for a pod spec that is valid but probably not what its author
// meant: duplicate ports or environment variables, duplicate pull secrets,
// fractional byte quantities, deprecated volume types. fldPath is the path
// of the object holding the spec: nil for a pod, "spec.template" for a
// workload's template.
func Warnings(fldPath *field.Path, spec *corev1.PodSpec) []string {
	if spec == nil {
		return nil
	}
	w := &warner{}
	specPath := fldPath.Child("spec")
	w.volumes(specPath, spec)
	w.pullSecrets(specPath, spec)
	w.hostAliases(specPath, spec)
	for i, t := range spec.TopologySpreadConstraints {
		if t.LabelSelector == nil {
			w.add(specPath.Child("topologySpreadConstraints").Index(i).Child("labelSelector"), "a null labelSelector results in matching no pod")
		}
	}
	ports := map[string][]portRef{}
	visit := func(list string, containers []corev1.Container) {
		for i := range containers {
			p := specPath.Child(list).Index(i)
			w.env(p, containers[i].Env)
			w.fractionalBytes(p, containers[i].Resources)
			w.ports(p, containers[i].Ports, ports)
		}
	}
	visit("initContainers", spec.InitContainers)
	visit("containers", spec.Containers)
	return w.out
}

type warner struct{ out []string }

func (w *warner) add(p *field.Path, msg string) { w.out = append(w.out, p.String()+": "+msg) }

// deprecatedVolumes are volume types Kubernetes still accepts but no longer
// supports, with the reason it gives.
var deprecatedVolumes = []struct {
	field string
	set   func(v *corev1.Volume) bool
	msg   string
}{
	{"gitRepo", func(v *corev1.Volume) bool { return v.GitRepo != nil }, "deprecated in v1.11"},
	{"scaleIO", func(v *corev1.Volume) bool { return v.ScaleIO != nil }, "deprecated in v1.16, non-functional in v1.22+"},
	{"flocker", func(v *corev1.Volume) bool { return v.Flocker != nil }, "deprecated in v1.22, non-functional in v1.25+"},
	{"storageOS", func(v *corev1.Volume) bool { return v.StorageOS != nil }, "deprecated in v1.22, non-functional in v1.25+"},
	{"quobyte", func(v *corev1.Volume) bool { return v.Quobyte != nil }, "deprecated in v1.22, non-functional in v1.25+"},
	{"glusterfs", func(v *corev1.Volume) bool { return v.Glusterfs != nil }, "deprecated in v1.25, non-functional in v1.26+"},
	{"cephfs", func(v *corev1.Volume) bool { return v.CephFS != nil }, "deprecated in v1.28, non-functional in v1.31+"},
	{"rbd", func(v *corev1.Volume) bool { return v.RBD != nil }, "deprecated in v1.28, non-functional in v1.31+"},
}

func (w *warner) volumes(specPath *field.Path, spec *corev1.PodSpec) {
	for i := range spec.Volumes {
		for _, d := range deprecatedVolumes {
			if d.set(&spec.Volumes[i]) {
				w.add(specPath.Child("volumes").Index(i).Child(d.field), d.msg)
			}
		}
	}
}

func (w *warner) pullSecrets(specPath *field.Path, spec *corev1.PodSpec) {
	seen := map[string]bool{}
	for i, s := range spec.ImagePullSecrets {
		p := specPath.Child("imagePullSecrets").Index(i).Child("name")
		switch {
		case s.Name == "":
			w.add(p, `invalid empty name ""`)
		case seen[s.Name]:
			w.add(p, fmt.Sprintf("duplicate name %q", s.Name))
		}
		seen[s.Name] = true
	}
}

func (w *warner) hostAliases(specPath *field.Path, spec *corev1.PodSpec) {
	seen := map[string]bool{}
	for i, a := range spec.HostAliases {
		if seen[a.IP] {
			w.add(specPath.Child("hostAliases").Index(i).Child("ip"), fmt.Sprintf("duplicate ip %q", a.IP))
		}
		seen[a.IP] = true
	}
}

// env warns about a variable that silently replaces an earlier one of the
// same name (apply may drop one of them), unless it builds on it with a
// $(NAME) reference.
func (w *warner) env(p *field.Path, env []corev1.EnvVar) {
	seen := map[string]bool{}
	for i, e := range env {
		if seen[e.Name] {
			ref := "$(" + e.Name + ")"
			if e.ValueFrom != nil || e.Value == ref || !strings.Contains(e.Value, ref) {
				w.add(p.Child("env").Index(i), fmt.Sprintf("hides previous definition of %q, which may be dropped when using apply", e.Name))
			}
		}
		seen[e.Name] = true
	}
}

func (w *warner) fractionalBytes(p *field.Path, r corev1.ResourceRequirements) {
	for _, kind := range []string{"limits", "requests"} {
		list := r.Limits
		if kind == "requests" {
			list = r.Requests
		}
		for _, name := range []corev1.ResourceName{corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
			if q, ok := list[name]; ok && q.MilliValue()%1000 != 0 {
				w.add(p.Child("resources", kind).Key(string(name)), fmt.Sprintf("fractional byte value %q is invalid, must be an integer", q.String()))
			}
		}
	}
}

type portRef struct {
	path *field.Path
	port corev1.ContainerPort
}

// ports warns about container ports declared twice in the pod (same
// number and protocol), which Kubernetes accepts but which usually means a
// copy-and-paste mistake.
func (w *warner) ports(p *field.Path, ports []corev1.ContainerPort, seen map[string][]portRef) {
	for i, port := range ports {
		pp := p.Child("ports").Index(i)
		if port.HostIP != "" && port.HostPort == 0 {
			w.add(pp, fmt.Sprintf("hostIP set without hostPort: %+v", port))
		}
		key := fmt.Sprintf("%d/%s", port.ContainerPort, port.Protocol)
		for _, other := range seen[key] {
			switch {
			case port.HostIP == other.port.HostIP && port.HostPort == other.port.HostPort:
				w.add(pp, fmt.Sprintf("duplicate port definition with %s", other.path))
			case port.HostPort == 0 || other.port.HostPort == 0:
				w.add(pp, fmt.Sprintf("overlapping port definition with %s", other.path))
			}
		}
		seen[key] = append(seen[key], portRef{pp, port})
	}
}
