package podsecurity

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// podTemplate returns the pod metadata and spec a workload object embeds:
// deployments, replicasets, statefulsets, daemonsets, jobs, cronjobs,
// replicationcontrollers and podtemplates. ok is false for any other
// object, and for a replicationcontroller without a template.
func podTemplate(obj runtime.Object) (meta *metav1.ObjectMeta, spec *corev1.PodSpec, ok bool) {
	var t *corev1.PodTemplateSpec
	switch o := obj.(type) {
	case *appsv1.Deployment:
		t = &o.Spec.Template
	case *appsv1.ReplicaSet:
		t = &o.Spec.Template
	case *appsv1.StatefulSet:
		t = &o.Spec.Template
	case *appsv1.DaemonSet:
		t = &o.Spec.Template
	case *batchv1.Job:
		t = &o.Spec.Template
	case *batchv1.CronJob:
		t = &o.Spec.JobTemplate.Spec.Template
	case *corev1.PodTemplate:
		t = &o.Template
	case *corev1.ReplicationController:
		t = o.Spec.Template
	}
	if t == nil {
		return nil, nil, false
	}
	return &t.ObjectMeta, &t.Spec, true
}

// workloadResources are the group/resources whose objects embed a pod
// template ("group/resource", core group empty).
func workloadResources() map[string]bool {
	return map[string]bool{
		"apps/deployments":        true,
		"apps/replicasets":        true,
		"apps/statefulsets":       true,
		"apps/daemonsets":         true,
		"batch/jobs":              true,
		"batch/cronjobs":          true,
		"/replicationcontrollers": true,
		"/podtemplates":           true,
	}
}
