// Package autoscaling describes the HorizontalPodAutoscaler resource in its
// two served versions. autoscaling/v2 owns storage; autoscaling/v1 shares it
// and converts to and from v2 the way Kubernetes does, carrying what v1
// cannot express (other metrics, current metrics, conditions, behavior) in
// the autoscaling.alpha.kubernetes.io annotations.
package autoscaling
