package volumebinding_test

import (
	"context"
	"testing"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	tu "github.com/skiff-io/skiff/internal/scheduler/internal/testutil"
	vb "github.com/skiff-io/skiff/internal/scheduler/plugins/volumebinding"
	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
)

func claim(name, volume, class string) *v1.PersistentVolumeClaim {
	c := &v1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: v1.PersistentVolumeClaimSpec{VolumeName: volume, AccessModes: []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce},
			Resources: v1.VolumeResourceRequirements{Requests: v1.ResourceList{v1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if class != "" {
		c.Spec.StorageClassName = &class
	}
	return c
}

func localPV(name, node, class string) *v1.PersistentVolume {
	return &v1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.PersistentVolumeSpec{
		StorageClassName: class, AccessModes: []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce},
		Capacity: v1.ResourceList{v1.ResourceStorage: resource.MustParse("5Gi")},
		NodeAffinity: &v1.VolumeNodeAffinity{Required: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{
			{Key: v1.LabelHostname, Operator: v1.NodeSelectorOpIn, Values: []string{node}}}}}}},
	}, Status: v1.PersistentVolumeStatus{Phase: v1.VolumeAvailable}}
}

func withClaim(name string) func(*v1.Pod) {
	return func(p *v1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, v1.Volume{Name: name, VolumeSource: v1.VolumeSource{
			PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: name}}})
	}
}

func setup(objs ...interface{}) vb.Listers {
	ns := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	claims, vols, classes := cache.NewIndexer(cache.MetaNamespaceKeyFunc, ns), cache.NewIndexer(cache.MetaNamespaceKeyFunc, nil), cache.NewIndexer(cache.MetaNamespaceKeyFunc, nil)
	for _, o := range objs {
		switch o.(type) {
		case *v1.PersistentVolumeClaim:
			_ = claims.Add(o)
		case *v1.PersistentVolume:
			_ = vols.Add(o)
		case *storagev1.StorageClass:
			_ = classes.Add(o)
		}
	}
	return vb.Listers{Claims: corelisters.NewPersistentVolumeClaimLister(claims), Volumes: corelisters.NewPersistentVolumeLister(vols),
		Classes: storagelisters.NewStorageClassLister(classes)}
}

func wffc(name, provisioner string) *storagev1.StorageClass {
	m := storagev1.VolumeBindingWaitForFirstConsumer
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner, VolumeBindingMode: &m}
}

func TestFilter(t *testing.T) {
	nodes := tu.Nodes(2, "1", "1Gi")
	const conflict = "UnschedulableAndUnresolvable: " + vb.ErrReasonNodeConflict
	cases := []struct {
		name    string
		listers vb.Listers
		pod     *v1.Pod
		want    map[string]string
	}{
		{"no volumes", setup(), tu.Pod("p", "", ""), map[string]string{"node-0": "", "node-1": ""}},
		{"missing claim", setup(), tu.Pod("p", "", "", withClaim("data")),
			map[string]string{"node-0": `UnschedulableAndUnresolvable: persistentvolumeclaim "data" not found`}},
		{"bound to a local volume", setup(claim("data", "pv-1", "local"), localPV("pv-1", "node-1", "local")), tu.Pod("p", "", "", withClaim("data")),
			map[string]string{"node-0": conflict, "node-1": ""}},
		{"unbound immediate claim", setup(claim("data", "", "")), tu.Pod("p", "", "", withClaim("data")),
			map[string]string{"node-0": "UnschedulableAndUnresolvable: " + vb.ErrReasonUnboundImmediate}},
		{"wait for first consumer, dynamic", setup(claim("data", "", "fast"), wffc("fast", "example.com/csi")), tu.Pod("p", "", "", withClaim("data")),
			map[string]string{"node-0": "", "node-1": ""}},
		{"wait for first consumer, static volume on one node", setup(claim("data", "", "local"), wffc("local", "kubernetes.io/no-provisioner"),
			localPV("pv-1", "node-0", "local")), tu.Pod("p", "", "", withClaim("data")),
			map[string]string{"node-0": "", "node-1": "UnschedulableAndUnresolvable: " + vb.ErrReasonBindConflict}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tu.Filter(t, vb.New(c.listers, nil), nodes, nil, c.pod)
			for n, w := range c.want {
				if s := tu.StatusString(got[n]); s != w {
					t.Errorf("%s: %q, want %q", n, s, w)
				}
			}
		})
	}
}

func TestPreBindSelectsNode(t *testing.T) {
	pvc := claim("data", "", "fast")
	client := fake.NewClientset(pvc)
	pl := vb.New(setup(pvc, wffc("fast", "example.com/csi")), client)
	fw, _ := framework.NewFramework([]framework.PluginSpec{{Plugin: pl}}, 1)
	snap := framework.NewSnapshot(nil, tu.Nodes(1, "1", "1Gi"), nil)
	state := framework.NewCycleState(snap)
	pod := tu.Pod("p", "", "", withClaim("data"))
	ctx := context.Background()
	if _, st, _ := fw.RunPreFilterPlugins(ctx, state, framework.NewPodInfo(pod, 0)); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := fw.RunPreBindPlugins(ctx, state, pod, "node-0"); !st.IsSuccess() {
		t.Fatal(st)
	}
	got, _ := client.CoreV1().PersistentVolumeClaims("ns").Get(ctx, "data", metav1.GetOptions{})
	if got.Annotations[vb.AnnSelectedNode] != "node-0" {
		t.Errorf("annotations %v", got.Annotations)
	}
}
