package agentserver

import (
	"encoding/json"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// servePods serves GET /pods: the agent's pods as a v1 PodList.
func (s *server) servePods(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.Pods == nil {
		notFound(w, "pods are not served by this agent")
		return
	}
	data, err := json.Marshal(podList(s.cfg.Pods()))
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

// podList copies pods into a PodList with its type set; nil pods are
// skipped and the list is never null in JSON.
func podList(pods []*corev1.Pod) *corev1.PodList {
	list := &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: []corev1.Pod{}}
	for _, p := range pods {
		if p != nil {
			list.Items = append(list.Items, *p)
		}
	}
	return list
}
