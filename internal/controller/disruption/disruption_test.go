package disruption

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func readyPod(ready bool) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}}
}

func TestComputeStatus(t *testing.T) {
	two, half, one := intstr.FromInt32(2), intstr.FromString("50%"), intstr.FromInt32(1)
	done := readyPod(true)
	done.Status.Phase = corev1.PodSucceeded
	tests := []struct {
		name                string
		spec                policyv1.PodDisruptionBudgetSpec
		pods                []*corev1.Pod
		allowed, desired    int32
		healthy, expected   int32
		conditionSufficient bool
	}{
		{"minAvailable met with room", policyv1.PodDisruptionBudgetSpec{MinAvailable: &two}, []*corev1.Pod{readyPod(true), readyPod(true), readyPod(true)}, 1, 2, 3, 3, true},
		{"minAvailable exactly met", policyv1.PodDisruptionBudgetSpec{MinAvailable: &two}, []*corev1.Pod{readyPod(true), readyPod(true), readyPod(false)}, 0, 2, 2, 3, false},
		{"percentage rounds up", policyv1.PodDisruptionBudgetSpec{MinAvailable: &half}, []*corev1.Pod{readyPod(true), readyPod(true), readyPod(true)}, 1, 2, 3, 3, true},
		{"maxUnavailable", policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one}, []*corev1.Pod{readyPod(true), readyPod(true)}, 1, 1, 2, 2, true},
		{"finished pods do not count", policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one}, []*corev1.Pod{readyPod(true), done}, 1, 0, 1, 1, true},
		{"no pods", policyv1.PodDisruptionBudgetSpec{MinAvailable: &one}, nil, 0, 1, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := computeStatus(&policyv1.PodDisruptionBudget{Spec: tt.spec}, tt.pods)
			if st.DisruptionsAllowed != tt.allowed || st.DesiredHealthy != tt.desired || st.CurrentHealthy != tt.healthy || st.ExpectedPods != tt.expected {
				t.Fatalf("status = allowed %d desired %d healthy %d expected %d; want %d %d %d %d",
					st.DisruptionsAllowed, st.DesiredHealthy, st.CurrentHealthy, st.ExpectedPods, tt.allowed, tt.desired, tt.healthy, tt.expected)
			}
			if len(st.Conditions) != 1 || (st.Conditions[0].Reason == policyv1.SufficientPodsReason) != tt.conditionSufficient {
				t.Fatalf("conditions = %+v", st.Conditions)
			}
		})
	}
}
