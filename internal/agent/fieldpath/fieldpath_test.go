package fieldpath

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFormatMap(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want string
	}{
		{"empty", nil, ""},
		{"sorted and quoted", map[string]string{"b": "2", "a": `say "hi"`, "c": "line\nbreak"},
			"a=\"say \\\"hi\\\"\"\nb=\"2\"\nc=\"line\\nbreak\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatMap(tt.in); got != tt.want {
				t.Errorf("FormatMap = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSplitSubscript(t *testing.T) {
	tests := []struct {
		in        string
		path, key string
		ok        bool
	}{
		{"metadata.annotations['myKey']", "metadata.annotations", "myKey", true},
		{"metadata.annotations['a[b]c']", "metadata.annotations", "a[b]c", true},
		{"metadata.labels['']", "metadata.labels", "", true},
		{"metadata.labels", "metadata.labels", "", false},
		{"['x']", "['x']", "", false},
		{"metadata.labels['x", "metadata.labels['x", "", false},
	}
	for _, tt := range tests {
		path, key, ok := SplitSubscript(tt.in)
		if path != tt.path || key != tt.key || ok != tt.ok {
			t.Errorf("SplitSubscript(%q) = %q, %q, %v; want %q, %q, %v", tt.in, path, key, ok, tt.path, tt.key, tt.ok)
		}
	}
}

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "prod", UID: "uid-1",
			Labels:      map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"note": "x"},
		},
		Spec: corev1.PodSpec{NodeName: "node-a", ServiceAccountName: "sa"},
	}
}

func TestPodField(t *testing.T) {
	rt := Runtime{PodIPs: []string{"10.0.0.5", "fd00::5"}, HostIPs: []string{"192.168.1.2"}}
	tests := []struct {
		path, version string
		rt            Runtime
		want          string
		wantErr       string
	}{
		{path: "metadata.name", want: "web"},
		{path: "metadata.namespace", want: "prod"},
		{path: "metadata.uid", want: "uid-1"},
		{path: "metadata.labels", want: "app=\"web\"\ntier=\"front\""},
		{path: "metadata.annotations", want: "note=\"x\""},
		{path: "metadata.labels['app']", want: "web"},
		{path: "metadata.labels['missing']", want: ""},
		{path: "metadata.annotations['note']", want: "x"},
		{path: "spec.nodeName", want: "node-a"},
		{path: "spec.host", want: "node-a"},
		{path: "spec.serviceAccountName", want: "sa"},
		{path: "status.podIP", rt: rt, want: "10.0.0.5"},
		{path: "status.podIPs", rt: rt, want: "10.0.0.5,fd00::5"},
		{path: "status.podIP", want: ""},
		{path: "status.hostIP", rt: rt, want: "192.168.1.2"},
		{path: "status.hostIPs", rt: rt, want: "192.168.1.2"},
		{path: "metadata.name", version: "v1", want: "web"},
		{path: "status.hostIP", wantErr: "node's address is not known"},
		{path: "metadata.name", version: "v2", wantErr: "unsupported pod version: v2"},
		{path: "spec.containers", wantErr: "field label not supported: spec.containers"},
		{path: "status.phase", wantErr: "unsupported fieldPath: status.phase"},
		{path: "metadata.name['x']", wantErr: "field label does not support subscript: metadata.name['x']"},
		{path: "metadata.labels['bad key!']", wantErr: "invalid key subscript in metadata.labels['bad key!']"},
	}
	for _, tt := range tests {
		t.Run(tt.path+tt.version, func(t *testing.T) {
			got, err := PodField(testPod(), &corev1.ObjectFieldSelector{APIVersion: tt.version, FieldPath: tt.path}, tt.rt)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRuntimeFromStatus(t *testing.T) {
	pod := testPod()
	pod.Status.PodIP = "10.0.0.1"
	if rt := RuntimeFromStatus(pod); len(rt.PodIPs) != 1 || rt.PodIPs[0] != "10.0.0.1" || rt.HostIPs != nil {
		t.Errorf("single podIP: %+v", rt)
	}
	pod.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "fd00::1"}}
	pod.Status.HostIPs = []corev1.HostIP{{IP: "192.168.0.9"}}
	rt := RuntimeFromStatus(pod)
	if strings.Join(rt.PodIPs, ",") != "10.0.0.1,fd00::1" || strings.Join(rt.HostIPs, ",") != "192.168.0.9" {
		t.Errorf("lists: %+v", rt)
	}
}
