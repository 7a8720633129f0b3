package envvars

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func svc(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{ClusterIP: ip, Ports: ports},
	}
}

func port(name string, p int32, proto corev1.Protocol) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: p, Protocol: proto}
}

// masterVars are the variables of default/kubernetes at 10.96.0.1:443.
func masterVars() []EnvVar {
	return []EnvVar{
		{Name: "KUBERNETES_SERVICE_HOST", Value: "10.96.0.1"},
		{Name: "KUBERNETES_SERVICE_PORT", Value: "443"},
		{Name: "KUBERNETES_SERVICE_PORT_HTTPS", Value: "443"},
		{Name: "KUBERNETES_PORT", Value: "tcp://10.96.0.1:443"},
		{Name: "KUBERNETES_PORT_443_TCP", Value: "tcp://10.96.0.1:443"},
		{Name: "KUBERNETES_PORT_443_TCP_PROTO", Value: "tcp"},
		{Name: "KUBERNETES_PORT_443_TCP_PORT", Value: "443"},
		{Name: "KUBERNETES_PORT_443_TCP_ADDR", Value: "10.96.0.1"},
	}
}

func masterService() *corev1.Service {
	return svc("default", "kubernetes", "10.96.0.1", port("https", 443, corev1.ProtocolTCP))
}

func TestServiceEnv(t *testing.T) {
	tests := []struct {
		name     string
		services []*corev1.Service
		ns       string
		links    bool
		want     []EnvVar
	}{
		{name: "no services", ns: "app", links: true},
		{
			name:     "master service even with links off",
			services: []*corev1.Service{masterService(), svc("app", "web", "10.96.0.10", port("", 80, ""))},
			ns:       "app",
			links:    false,
			want:     masterVars(),
		},
		{
			name: "unnamed single port, default protocol TCP, dashes in the name",
			services: []*corev1.Service{
				svc("app", "my-web", "10.96.0.10", port("", 80, "")),
			},
			ns:    "app",
			links: true,
			want: []EnvVar{
				{Name: "MY_WEB_SERVICE_HOST", Value: "10.96.0.10"},
				{Name: "MY_WEB_SERVICE_PORT", Value: "80"},
				{Name: "MY_WEB_PORT", Value: "tcp://10.96.0.10:80"},
				{Name: "MY_WEB_PORT_80_TCP", Value: "tcp://10.96.0.10:80"},
				{Name: "MY_WEB_PORT_80_TCP_PROTO", Value: "tcp"},
				{Name: "MY_WEB_PORT_80_TCP_PORT", Value: "80"},
				{Name: "MY_WEB_PORT_80_TCP_ADDR", Value: "10.96.0.10"},
			},
		},
		{
			name: "named ports and UDP",
			services: []*corev1.Service{
				svc("app", "dns", "10.96.0.53", port("dns-udp", 53, corev1.ProtocolUDP), port("metrics", 9153, corev1.ProtocolTCP)),
			},
			ns:    "app",
			links: true,
			want: []EnvVar{
				{Name: "DNS_SERVICE_HOST", Value: "10.96.0.53"},
				{Name: "DNS_SERVICE_PORT", Value: "53"},
				{Name: "DNS_SERVICE_PORT_DNS_UDP", Value: "53"},
				{Name: "DNS_SERVICE_PORT_METRICS", Value: "9153"},
				{Name: "DNS_PORT", Value: "udp://10.96.0.53:53"},
				{Name: "DNS_PORT_53_UDP", Value: "udp://10.96.0.53:53"},
				{Name: "DNS_PORT_53_UDP_PROTO", Value: "udp"},
				{Name: "DNS_PORT_53_UDP_PORT", Value: "53"},
				{Name: "DNS_PORT_53_UDP_ADDR", Value: "10.96.0.53"},
				{Name: "DNS_PORT_9153_TCP", Value: "tcp://10.96.0.53:9153"},
				{Name: "DNS_PORT_9153_TCP_PROTO", Value: "tcp"},
				{Name: "DNS_PORT_9153_TCP_PORT", Value: "9153"},
				{Name: "DNS_PORT_9153_TCP_ADDR", Value: "10.96.0.53"},
			},
		},
		{
			name:     "IPv6 cluster IP is bracketed in URLs",
			services: []*corev1.Service{svc("app", "v6", "fd00::a", port("", 8080, corev1.ProtocolSCTP))},
			ns:       "app",
			links:    true,
			want: []EnvVar{
				{Name: "V6_SERVICE_HOST", Value: "fd00::a"},
				{Name: "V6_SERVICE_PORT", Value: "8080"},
				{Name: "V6_PORT", Value: "sctp://[fd00::a]:8080"},
				{Name: "V6_PORT_8080_SCTP", Value: "sctp://[fd00::a]:8080"},
				{Name: "V6_PORT_8080_SCTP_PROTO", Value: "sctp"},
				{Name: "V6_PORT_8080_SCTP_PORT", Value: "8080"},
				{Name: "V6_PORT_8080_SCTP_ADDR", Value: "fd00::a"},
			},
		},
		{
			name: "headless, ExternalName and other namespaces are left out; sorted by name",
			services: []*corev1.Service{
				svc("app", "zeta", "10.96.0.3", port("", 3, "")),
				svc("app", "headless", corev1.ClusterIPNone, port("", 80, "")),
				svc("app", "external", "", port("", 80, "")),
				svc("other", "alpha", "10.96.0.9", port("", 9, "")),
				svc("default", "beta", "10.96.0.8", port("", 8, "")),
				svc("app", "alpha", "10.96.0.1", port("", 1, "")),
			},
			ns:    "app",
			links: true,
			want: []EnvVar{
				{Name: "ALPHA_SERVICE_HOST", Value: "10.96.0.1"},
				{Name: "ALPHA_SERVICE_PORT", Value: "1"},
				{Name: "ALPHA_PORT", Value: "tcp://10.96.0.1:1"},
				{Name: "ALPHA_PORT_1_TCP", Value: "tcp://10.96.0.1:1"},
				{Name: "ALPHA_PORT_1_TCP_PROTO", Value: "tcp"},
				{Name: "ALPHA_PORT_1_TCP_PORT", Value: "1"},
				{Name: "ALPHA_PORT_1_TCP_ADDR", Value: "10.96.0.1"},
				{Name: "ZETA_SERVICE_HOST", Value: "10.96.0.3"},
				{Name: "ZETA_SERVICE_PORT", Value: "3"},
				{Name: "ZETA_PORT", Value: "tcp://10.96.0.3:3"},
				{Name: "ZETA_PORT_3_TCP", Value: "tcp://10.96.0.3:3"},
				{Name: "ZETA_PORT_3_TCP_PROTO", Value: "tcp"},
				{Name: "ZETA_PORT_3_TCP_PORT", Value: "3"},
				{Name: "ZETA_PORT_3_TCP_ADDR", Value: "10.96.0.3"},
			},
		},
		{
			name: "pod in default gets all of default's services",
			services: []*corev1.Service{
				svc("default", "web", "10.96.0.10", port("", 80, "")),
				masterService(),
			},
			ns:    "default",
			links: true,
			want: append(masterVars(),
				EnvVar{Name: "WEB_SERVICE_HOST", Value: "10.96.0.10"},
				EnvVar{Name: "WEB_SERVICE_PORT", Value: "80"},
				EnvVar{Name: "WEB_PORT", Value: "tcp://10.96.0.10:80"},
				EnvVar{Name: "WEB_PORT_80_TCP", Value: "tcp://10.96.0.10:80"},
				EnvVar{Name: "WEB_PORT_80_TCP_PROTO", Value: "tcp"},
				EnvVar{Name: "WEB_PORT_80_TCP_PORT", Value: "80"},
				EnvVar{Name: "WEB_PORT_80_TCP_ADDR", Value: "10.96.0.10"},
			),
		},
		{
			name:     "the namespace's own kubernetes service replaces the master one",
			services: []*corev1.Service{masterService(), svc("app", "kubernetes", "10.96.0.77", port("", 80, ""))},
			ns:       "app",
			links:    true,
			want: []EnvVar{
				{Name: "KUBERNETES_SERVICE_HOST", Value: "10.96.0.77"},
				{Name: "KUBERNETES_SERVICE_PORT", Value: "80"},
				{Name: "KUBERNETES_PORT", Value: "tcp://10.96.0.77:80"},
				{Name: "KUBERNETES_PORT_80_TCP", Value: "tcp://10.96.0.77:80"},
				{Name: "KUBERNETES_PORT_80_TCP_PROTO", Value: "tcp"},
				{Name: "KUBERNETES_PORT_80_TCP_PORT", Value: "80"},
				{Name: "KUBERNETES_PORT_80_TCP_ADDR", Value: "10.96.0.77"},
			},
		},
		{
			name:     "links off: the namespace's kubernetes service is ignored",
			services: []*corev1.Service{svc("app", "kubernetes", "10.96.0.77", port("", 80, "")), masterService()},
			ns:       "app",
			links:    false,
			want:     masterVars(),
		},
		{
			name:     "a master service without a cluster IP gives nothing",
			services: []*corev1.Service{svc("default", "kubernetes", "", port("https", 443, ""))},
			ns:       "app",
			links:    false,
		},
		{
			name:     "a service without ports gets only its host",
			services: []*corev1.Service{svc("app", "bare", "10.96.0.5")},
			ns:       "app",
			links:    true,
			want:     []EnvVar{{Name: "BARE_SERVICE_HOST", Value: "10.96.0.5"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ServiceEnv(tt.services, tt.ns, tt.links)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ServiceEnv:\n got  %v\n want %v", got, tt.want)
			}
		})
	}
}

func TestServiceLinksEnabled(t *testing.T) {
	for _, tt := range []struct {
		v    *bool
		want bool
	}{{nil, true}, {ptr(true), true}, {ptr(false), false}} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{EnableServiceLinks: tt.v}}
		if got := ServiceLinksEnabled(pod); got != tt.want {
			t.Errorf("ServiceLinksEnabled(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// TestResolveWithServiceEnv checks the kubelet's precedence: service
// variables are visible to $(VAR) expansion, and the container's envFrom and
// env definitions override them.
func TestResolveWithServiceEnv(t *testing.T) {
	serviceEnv := []EnvVar{
		{Name: "WEB_SERVICE_HOST", Value: "10.96.0.10"},
		{Name: "WEB_SERVICE_PORT", Value: "80"},
		{Name: "FROM_CM", Value: "service"},
	}
	tests := []struct {
		name string
		c    corev1.Container
		want []EnvVar
	}{
		{
			name: "no container env: service env as is",
			want: serviceEnv,
		},
		{
			name: "expansion sees service variables",
			c: corev1.Container{Env: []corev1.EnvVar{
				{Name: "URL", Value: "http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)/"},
			}},
			want: []EnvVar{
				{Name: "WEB_SERVICE_HOST", Value: "10.96.0.10"},
				{Name: "WEB_SERVICE_PORT", Value: "80"},
				{Name: "FROM_CM", Value: "service"},
				{Name: "URL", Value: "http://10.96.0.10:80/"},
			},
		},
		{
			name: "container env overrides; earlier references saw the service value",
			c: corev1.Container{Env: []corev1.EnvVar{
				{Name: "BEFORE", Value: "$(WEB_SERVICE_HOST)"},
				{Name: "WEB_SERVICE_HOST", Value: "override"},
				{Name: "AFTER", Value: "$(WEB_SERVICE_HOST)"},
			}},
			want: []EnvVar{
				{Name: "WEB_SERVICE_HOST", Value: "override"},
				{Name: "WEB_SERVICE_PORT", Value: "80"},
				{Name: "FROM_CM", Value: "service"},
				{Name: "BEFORE", Value: "10.96.0.10"},
				{Name: "AFTER", Value: "override"},
			},
		},
		{
			name: "envFrom overrides service variables",
			c: corev1.Container{EnvFrom: []corev1.EnvFromSource{{
				ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}},
				Prefix:       "FROM_",
			}}},
			want: []EnvVar{
				{Name: "WEB_SERVICE_HOST", Value: "10.96.0.10"},
				{Name: "WEB_SERVICE_PORT", Value: "80"},
				{Name: "FROM_CM", Value: "from-configmap"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGetter()
			g.configMaps["ns/cm"] = &corev1.ConfigMap{Data: map[string]string{"CM": "from-configmap"}}
			pod := envPod(tt.c)
			got, err := Env(context.Background(), g, pod, &pod.Spec.Containers[0], NodeInfo{}, "", serviceEnv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("vars:\n got  %v\n want %v", got, tt.want)
			}
		})
	}
}
