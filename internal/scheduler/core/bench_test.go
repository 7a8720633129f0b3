package core_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/skiff-io/skiff/internal/scheduler/cache"
	"github.com/skiff-io/skiff/internal/scheduler/core"
	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/plugins"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func benchNode(i int) *v1.Node {
	name := fmt.Sprintf("node-%04d", i)
	rl := v1.ResourceList{v1.ResourceCPU: resource.MustParse("32"), v1.ResourceMemory: resource.MustParse("128Gi"), v1.ResourcePods: resource.MustParse("110")}
	return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.LabelHostname: name, v1.LabelTopologyZone: fmt.Sprintf("z%d", i%10)}},
		Status: v1.NodeStatus{Capacity: rl, Allocatable: rl}}
}

func benchPod(i int) *framework.PodInfo {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%d", i), Namespace: "ns", UID: types.UID(fmt.Sprint(i)), Labels: map[string]string{"app": "x"}},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{
			v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("128Mi")}}}}}}
	return framework.NewPodInfo(p, 0)
}

// BenchmarkScheduleAssume is one scheduling cycle of the scheduler loop
// (snapshot refresh, algorithm, assume) on 1,000 nodes.
func BenchmarkScheduleAssume(b *testing.B) {
	for _, par := range []int{1, 2} {
		b.Run(fmt.Sprintf("parallelism=%d", par), func(b *testing.B) {
			c := cache.New(nil)
			for i := 0; i < 1000; i++ {
				c.AddNode(benchNode(i))
			}
			fw, err := plugins.NewDefaultFramework(plugins.Handle{}, par)
			if err != nil {
				b.Fatal(err)
			}
			algo := core.New(fw, 0, 1)
			snap := framework.NewEmptySnapshot()
			pods := make([]*framework.PodInfo, b.N)
			for i := range pods {
				pods[i] = benchPod(i)
			}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.UpdateSnapshot(snap)
				res, _, err := algo.Schedule(ctx, snap, pods[i], nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.AssumePod(pods[i], res.Node); err != nil {
					b.Fatal(err)
				}
				if i%10000 == 9999 { // keep nodes from filling up
					b.StopTimer()
					for j := i - 9999; j <= i; j++ {
						c.ForgetPod(pods[j].Pod)
					}
					b.StartTimer()
				}
			}
		})
	}
}
