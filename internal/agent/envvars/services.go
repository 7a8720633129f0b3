package envvars

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MasterServiceName is the Service in the default namespace that fronts the
// API server. Its variables (KUBERNETES_SERVICE_HOST, ...) go into every
// container, even with enableServiceLinks false, because in-cluster clients
// find the API server through them.
const MasterServiceName = "kubernetes"

// ServiceLinksEnabled reports whether pod wants the link variables of its
// namespace's Services: spec.enableServiceLinks, true when unset as the API
// server's defaulting makes it.
func ServiceLinksEnabled(pod *corev1.Pod) bool {
	return pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
}

// ServiceEnv returns the Service link variables of a container in a pod of
// namespace, as the kubelet injects them. services may hold Services of any
// namespace; only those with a cluster IP (neither "" nor "None") count:
// the master Service (default/kubernetes) always, and with enableLinks every
// Service of namespace. A Service of namespace named like the master Service
// takes its place. Services are emitted sorted by name; each contributes, with
// NAME its name upper-cased and '-' turned into '_':
//
//	NAME_SERVICE_HOST              the cluster IP
//	NAME_SERVICE_PORT              the first port
//	NAME_SERVICE_PORT_<PORTNAME>   each named port
//	NAME_PORT                      <proto>://<ip>:<first port>
//	NAME_PORT_<port>_<PROTO>       <proto>://<ip>:<port>, per port, with
//	                               _PROTO, _PORT and _ADDR variants
//
// (the Docker links convention). The protocol defaults to TCP.
func ServiceEnv(services []*corev1.Service, namespace string, enableLinks bool) []EnvVar {
	byName := map[string]*corev1.Service{}
	for _, svc := range services {
		if !hasClusterIP(svc) {
			continue
		}
		switch {
		case svc.Namespace == namespace && enableLinks:
			// The pod's own namespace wins over the master Service.
			byName[svc.Name] = svc
		case svc.Namespace == metav1.NamespaceDefault && svc.Name == MasterServiceName:
			if _, taken := byName[svc.Name]; !taken {
				byName[svc.Name] = svc
			}
		}
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []EnvVar
	for _, name := range names {
		out = append(out, serviceVars(byName[name])...)
	}
	return out
}

// hasClusterIP is false for headless ("None") and ExternalName ("")
// Services, which get no variables.
func hasClusterIP(svc *corev1.Service) bool {
	ip := svc.Spec.ClusterIP
	return ip != "" && ip != corev1.ClusterIPNone
}

// serviceVars are one Service's variables, in the order the kubelet builds
// them.
func serviceVars(svc *corev1.Service) []EnvVar {
	prefix := envVarName(svc.Name)
	ip := svc.Spec.ClusterIP
	out := []EnvVar{{Name: prefix + "_SERVICE_HOST", Value: ip}}
	ports := svc.Spec.Ports
	if len(ports) == 0 {
		// Validation requires a port on Services with a cluster IP; without
		// one there is nothing more to say.
		return out
	}
	out = append(out, EnvVar{Name: prefix + "_SERVICE_PORT", Value: portString(ports[0].Port)})
	for _, p := range ports {
		if p.Name != "" {
			out = append(out, EnvVar{Name: prefix + "_SERVICE_PORT_" + envVarName(p.Name), Value: portString(p.Port)})
		}
	}
	return append(out, linkVars(prefix, ip, ports)...)
}

// linkVars are the Docker-links style variables of a Service's ports; the
// first port also gets the bare NAME_PORT.
func linkVars(prefix, ip string, ports []corev1.ServicePort) []EnvVar {
	var out []EnvVar
	for i, p := range ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		lower := strings.ToLower(proto)
		url := lower + "://" + net.JoinHostPort(ip, portString(p.Port))
		if i == 0 {
			out = append(out, EnvVar{Name: prefix + "_PORT", Value: url})
		}
		portPrefix := fmt.Sprintf("%s_PORT_%d_%s", prefix, p.Port, strings.ToUpper(proto))
		out = append(out,
			EnvVar{Name: portPrefix, Value: url},
			EnvVar{Name: portPrefix + "_PROTO", Value: lower},
			EnvVar{Name: portPrefix + "_PORT", Value: portString(p.Port)},
			EnvVar{Name: portPrefix + "_ADDR", Value: ip},
		)
	}
	return out
}

// envVarName turns a Service or port name (a DNS label) into the variable
// name part the kubelet uses.
func envVarName(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func portString(p int32) string { return strconv.Itoa(int(p)) }
