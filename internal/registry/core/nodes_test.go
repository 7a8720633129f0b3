package core

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-io/skiff/internal/registry"
)

func nodeTest(mut func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}
	if mut != nil {
		mut(n)
	}
	return n
}

func TestNodesResource(t *testing.T) {
	r := Nodes()
	if r.Namespaced || r.Resource != "nodes" || r.ShortNames[0] != "no" {
		t.Errorf("unexpected resource %+v", r)
	}
	if !r.HasSubresource("status") || !r.HasSubresource("proxy") {
		t.Error("nodes must serve status and proxy")
	}
	var _ registry.StatusStrategy = nodeStrategy{}
}

func TestNodeDefaultAndCreate(t *testing.T) {
	s := nodeStrategy{}
	n := nodeTest(func(n *corev1.Node) {
		n.Spec.PodCIDR = "10.244.0.0/24"
		n.Status.Capacity = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	})
	s.Default(n)
	s.PrepareForCreate(n)
	commonExpectErrs(t, s.Validate(n))
	if !reflect.DeepEqual(n.Spec.PodCIDRs, []string{"10.244.0.0/24"}) {
		t.Errorf("podCIDRs = %v", n.Spec.PodCIDRs)
	}
	if q := n.Status.Allocatable[corev1.ResourceCPU]; q.String() != "4" {
		t.Errorf("allocatable = %v", n.Status.Allocatable)
	}
	if len(n.Status.Conditions) != 1 {
		t.Error("create must keep the status the agent registered with")
	}
	plural := nodeTest(func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.1.0.0/24"} })
	s.Default(plural)
	if plural.Spec.PodCIDR != "10.1.0.0/24" {
		t.Errorf("podCIDR = %q", plural.Spec.PodCIDR)
	}
}

func TestNodeValidate(t *testing.T) {
	cases := []struct {
		name string
		mut  func(*corev1.Node)
		want []string
	}{
		{"valid taint", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		}, nil},
		{"bad taint", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "bad key", Value: "a b", Effect: "Sometimes"}}
		}, []string{"FieldValueInvalid metadata.taints[0].key", "FieldValueInvalid metadata.taints[0].value", "FieldValueNotSupported metadata.taints[0].effect"}},
		{"taint without effect", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{{Key: "a"}} },
			[]string{"FieldValueRequired metadata.taints[0].effect"}},
		{"duplicate taint", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "a", Effect: "NoSchedule"}, {Key: "a", Value: "x", Effect: "NoSchedule"}, {Key: "a", Effect: "NoExecute"}}
		}, []string{"FieldValueDuplicate metadata.taints[1]"}},
		{"bad cidr", func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.0.0.0/33"} }, []string{"FieldValueInvalid spec.podCIDRs[0]"}},
		{"two v4 cidrs", func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.0.0.0/24", "10.0.1.0/24"} },
			[]string{"FieldValueInvalid spec.podCIDRs"}},
		{"dual stack cidrs", func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.0.0.0/24", "fd00::/64"} }, nil},
		{"negative capacity", func(n *corev1.Node) {
			n.Status.Capacity = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("-1")}
		}, []string{"FieldValueInvalid status.allocatable.memory", "FieldValueInvalid status.capacity.memory"}},
		{"fractional pods", func(n *corev1.Node) {
			n.Status.Capacity = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1500m")}
		}, []string{"FieldValueInvalid status.allocatable.pods", "FieldValueInvalid status.capacity.pods"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := nodeStrategy{}
			n := nodeTest(c.mut)
			s.Default(n)
			commonExpectErrs(t, s.Validate(n), c.want...)
		})
	}
}

func TestNodeUpdate(t *testing.T) {
	s := nodeStrategy{}
	old := nodeTest(func(n *corev1.Node) {
		n.Spec.PodCIDRs = []string{"10.244.0.0/24"}
		n.Spec.ProviderID = "skiff://node-1"
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	})
	s.Default(old)
	cases := []struct {
		name string
		mut  func(*corev1.Node)
		want []string
	}{
		{"cordon", func(n *corev1.Node) { n.Spec.Unschedulable = true }, nil},
		{"change cidr", func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "", []string{"10.245.0.0/24"} },
			[]string{"FieldValueForbidden spec.podCIDRs"}},
		{"change provider", func(n *corev1.Node) { n.Spec.ProviderID = "other" }, []string{"FieldValueForbidden spec.providerID"}},
		{"change external id", func(n *corev1.Node) { n.Spec.DoNotUseExternalID = "x" }, []string{"FieldValueForbidden spec.externalID"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := old.DeepCopy()
			c.mut(n)
			n.Status.Conditions = nil
			s.Default(n)
			s.PrepareForUpdate(n, old)
			if len(n.Status.Conditions) != 1 {
				t.Error("update changed status")
			}
			commonExpectErrs(t, s.ValidateUpdate(n, old), c.want...)
		})
	}

	fresh := nodeTest(nil)
	assigned := fresh.DeepCopy()
	assigned.Spec.PodCIDRs = []string{"10.9.0.0/24"}
	commonExpectErrs(t, s.ValidateUpdate(assigned, fresh))

	st := old.DeepCopy()
	st.Spec.Unschedulable = true
	st.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}, {Type: corev1.NodeInternalIP, Address: "10.0.0.1"}}
	s.PrepareForStatusUpdate(st, old)
	if st.Spec.Unschedulable {
		t.Error("status update changed spec")
	}
	commonExpectErrs(t, s.ValidateStatusUpdate(st, old), "FieldValueDuplicate status.addresses[1]")
}

func TestNodeTable(t *testing.T) {
	s := nodeStrategy{}
	created := metav1.NewTime(time.Now().Add(-10 * 24 * time.Hour))
	cases := []struct {
		name string
		mut  func(*corev1.Node)
		want []interface{}
	}{
		{"bare", nil, []interface{}{"node-1", "Unknown", "<none>", "10d", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
		{"ready control plane", func(n *corev1.Node) {
			n.Labels = map[string]string{"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "master", "node-role.kubernetes.io/": ""}
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
			n.Status.NodeInfo = corev1.NodeSystemInfo{KubeletVersion: "v1.37.0", OSImage: "Debian", KernelVersion: "6.1", ContainerRuntimeVersion: "skiff://1.0"}
			n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "node-1"}, {Type: corev1.NodeInternalIP, Address: "10.0.0.5"}}
		}, []interface{}{"node-1", "Ready", "control-plane,master", "10d", "v1.37.0", "10.0.0.5", "<none>", "Debian", "6.1", "skiff://1.0"}},
		{"not ready cordoned", func(n *corev1.Node) {
			n.Spec.Unschedulable = true
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}}
		}, []interface{}{"node-1", "NotReady,SchedulingDisabled", "<none>", "10d", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
		{"ready cordoned", func(n *corev1.Node) {
			n.Spec.Unschedulable = true
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		}, []interface{}{"node-1", "Ready,SchedulingDisabled", "<none>", "10d", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := nodeTest(c.mut)
			n.CreationTimestamp = created
			row := s.TableRow(n)
			commonCheckTable(t, s, []string{"Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"}, row)
			if !reflect.DeepEqual(row, c.want) {
				t.Errorf("row = %#v, want %#v", row, c.want)
			}
		})
	}
	if f := s.SelectableFields(nodeTest(func(n *corev1.Node) { n.Spec.Unschedulable = true })); f["spec.unschedulable"] != "true" {
		t.Errorf("fields = %v", f)
	}
}
