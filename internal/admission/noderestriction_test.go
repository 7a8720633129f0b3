package admission

import (
	"errors"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/auth/user"
	"github.com/skiff-io/skiff/internal/registry"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

func nrNodeUser(name string) *user.Info {
	return &user.Info{Name: user.NodeUserPrefix + name, Groups: []string{user.NodesGroup, user.AllAuthenticated}}
}

func nrPod(name, nodeName string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{"app": "x"}}, Spec: corev1.PodSpec{NodeName: nodeName}}
}

func nrNode(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("node-uid-" + name), Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
}

func nrPlugin() *NodeRestriction {
	pods := map[string]*corev1.Pod{"mine": nrPod("mine", "a"), "theirs": nrPod("theirs", "b"), "pending": nrPod("pending", "")}
	return &NodeRestriction{
		GetPod: func(ns, name string) (*corev1.Pod, error) {
			if p, ok := pods[name]; ok && ns == "ns" {
				return p, nil
			}
			if name == "broken" {
				return nil, errors.New("cache not ready")
			}
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, name)
		},
		GetNode: func(name string) (*corev1.Node, error) {
			if name == "a" {
				return nrNode("a", nil), nil
			}
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "nodes"}, name)
		},
	}
}

func nrRes(group, res string) *registry.Resource {
	return &registry.Resource{Group: group, Resource: res}
}

func TestNodeRestriction(t *testing.T) {
	pods, nodes := nrRes("", "pods"), nrRes("", "nodes")
	leases, csinodes := nrRes("coordination.k8s.io", "leases"), nrRes("storage.k8s.io", "csinodes")
	pvcs, sas := nrRes("", "persistentvolumeclaims"), nrRes("", "serviceaccounts")
	relabeled := nrPod("mine", "a")
	relabeled.Labels = map[string]string{"app": "y"}
	claimed := nrPod("mine", "a")
	claimed.Status.ResourceClaimStatuses = []corev1.PodResourceClaimStatus{{Name: "c"}}
	lease := func(name string, owners ...metav1.OwnerReference) *coordinationv1.Lease {
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-node-lease", Name: name, OwnerReferences: owners}}
	}
	nodeOwner := func(name, uid string) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: name, UID: types.UID(uid)}
	}
	token := func(ref *authenticationv1.BoundObjectReference) *authenticationv1.TokenRequest {
		return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: ref}}
	}
	podRef := func(name, uid string) *authenticationv1.BoundObjectReference {
		return &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: name, UID: types.UID(uid)}
	}
	pvc := func(capacity string, mutate func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
		c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data", ResourceVersion: "1"},
			Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(capacity)}}}
		if mutate != nil {
			mutate(c)
		}
		return c
	}
	osLabels := map[string]string{
		corev1.LabelHostname: "a", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
		"beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
		corev1.LabelTopologyZone: "z1", "node.kubernetes.io/instance-type": "big",
		"kubelet.kubernetes.io/x": "1", "sub.node.kubernetes.io/y": "2", "example.com/rack": "r1", "plain": "v",
	}

	tests := []struct {
		name string
		a    apiserver.Attributes
		// want is "" for admitted, "notfound", or a substring of the
		// Forbidden message.
		want string
	}{
		// Pods.
		{"create pod", apiserver.Attributes{Resource: pods, Verb: "create", Namespace: "ns", Object: nrPod("new", "a")},
			`pods "new" is forbidden: node "a" can not create pods: Skiff has no static or mirror pods`},
		{"delete own pod", apiserver.Attributes{Resource: pods, Verb: "delete", Namespace: "ns", Name: "mine", Old: nrPod("mine", "a")}, ""},
		{"delete own pod, looked up", apiserver.Attributes{Resource: pods, Verb: "delete", Namespace: "ns", Name: "mine"}, ""},
		{"delete other pod", apiserver.Attributes{Resource: pods, Verb: "delete", Namespace: "ns", Name: "theirs", Old: nrPod("theirs", "b")},
			`node "a" can only delete pods with spec.nodeName set to itself`},
		{"delete unbound pod", apiserver.Attributes{Resource: pods, Verb: "delete", Namespace: "ns", Name: "pending", Old: nrPod("pending", "")},
			`can only delete pods with spec.nodeName set to itself`},
		{"delete missing pod", apiserver.Attributes{Resource: pods, Verb: "delete", Namespace: "ns", Name: "ghost"}, "notfound"},
		{"delete pod, cache error", apiserver.Attributes{Resource: pods, Verb: "delete", Namespace: "ns", Name: "broken"}, "cache not ready"},
		{"graceful deletion mark", apiserver.Attributes{Resource: pods, Verb: "update", Subresource: "delete", Namespace: "ns", Name: "mine", Object: nrPod("mine", "a"), Old: nrPod("mine", "a")}, ""},
		{"update pod", apiserver.Attributes{Resource: pods, Verb: "update", Namespace: "ns", Name: "mine", Object: nrPod("mine", "a"), Old: nrPod("mine", "a")},
			`unexpected operation "UPDATE", node "a" can only delete pods bound to itself`},
		{"own pod status", apiserver.Attributes{Resource: pods, Verb: "update", Subresource: "status", Namespace: "ns", Name: "mine", Object: nrPod("mine", "a"), Old: nrPod("mine", "a")}, ""},
		{"other pod status", apiserver.Attributes{Resource: pods, Verb: "update", Subresource: "status", Namespace: "ns", Name: "theirs", Object: nrPod("theirs", "b"), Old: nrPod("theirs", "b")},
			`node "a" can only update pod status for pods with spec.nodeName set to itself`},
		{"status changes labels", apiserver.Attributes{Resource: pods, Verb: "update", Subresource: "status", Namespace: "ns", Name: "mine", Object: relabeled, Old: nrPod("mine", "a")},
			`node "a" cannot update labels through pod status`},
		{"status changes claim statuses", apiserver.Attributes{Resource: pods, Verb: "update", Subresource: "status", Namespace: "ns", Name: "mine", Object: claimed, Old: nrPod("mine", "a")},
			`cannot update resource claim statues`},
		{"evict own pod", apiserver.Attributes{Resource: pods, Verb: "create", Subresource: "eviction", Namespace: "ns", Name: "mine", Object: &policyv1.Eviction{}}, ""},
		{"evict named by body", apiserver.Attributes{Resource: pods, Verb: "create", Subresource: "eviction", Namespace: "ns", Object: &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "mine"}}}, ""},
		{"evict other pod", apiserver.Attributes{Resource: pods, Verb: "create", Subresource: "eviction", Namespace: "ns", Name: "theirs", Object: &policyv1.Eviction{}},
			`node a can only evict pods with spec.nodeName set to itself`},
		{"evict without name", apiserver.Attributes{Resource: pods, Verb: "create", Subresource: "eviction", Namespace: "ns", Object: &policyv1.Eviction{}},
			`could not determine pod from request data`},
		{"evict missing pod", apiserver.Attributes{Resource: pods, Verb: "create", Subresource: "eviction", Namespace: "ns", Name: "ghost", Object: &policyv1.Eviction{}}, "notfound"},
		{"other pod subresource", apiserver.Attributes{Resource: pods, Verb: "update", Subresource: "ephemeralcontainers", Namespace: "ns", Name: "mine", Object: nrPod("mine", "a"), Old: nrPod("mine", "a")},
			`unexpected pod subresource "ephemeralcontainers", only 'status' and 'eviction' are allowed`},

		// Nodes.
		{"register self", apiserver.Attributes{Resource: nodes, Verb: "create", Object: nrNode("a", osLabels, corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule})}, ""},
		{"register other", apiserver.Attributes{Resource: nodes, Verb: "create", Object: nrNode("b", nil)}, `nodes "b" is forbidden: node "a" is not allowed to modify node "b"`},
		{"register with restricted label", apiserver.Attributes{Resource: nodes, Verb: "create", Object: nrNode("a", map[string]string{
			"node-restriction.kubernetes.io/trusted": "yes", "node-role.kubernetes.io/control-plane": "", "foo.k8s.io/x": "1", "x.node-restriction.kubernetes.io/y": "1"})},
			`node "a" is not allowed to set the following labels: foo.k8s.io/x, node-restriction.kubernetes.io/trusted, node-role.kubernetes.io/control-plane, x.node-restriction.kubernetes.io/y`},
		{"register with config source", apiserver.Attributes{Resource: nodes, Verb: "create", Object: func() *corev1.Node {
			n := nrNode("a", nil)
			n.Spec.ConfigSource = &corev1.NodeConfigSource{}
			return n
		}()}, `node "a" is not allowed to create pods with a non-nil configSource`},
		{"update own status", apiserver.Attributes{Resource: nodes, Verb: "update", Subresource: "status", Name: "a",
			Object: nrNode("a", map[string]string{"node-role.kubernetes.io/worker": ""}), Old: nrNode("a", map[string]string{"node-role.kubernetes.io/worker": ""})}, ""},
		{"update other", apiserver.Attributes{Resource: nodes, Verb: "update", Subresource: "status", Name: "b", Object: nrNode("b", nil), Old: nrNode("b", nil)},
			`node "a" is not allowed to modify node "b"`},
		{"delete own", apiserver.Attributes{Resource: nodes, Verb: "delete", Name: "a", Old: nrNode("a", nil)}, ""},
		{"delete other", apiserver.Attributes{Resource: nodes, Verb: "delete", Name: "b", Old: nrNode("b", nil)}, `node "a" is not allowed to modify node "b"`},
		{"remove taint", apiserver.Attributes{Resource: nodes, Verb: "update", Name: "a", Object: nrNode("a", nil),
			Old: nrNode("a", nil, corev1.Taint{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoExecute})},
			`node "a" is not allowed to modify taints`},
		{"add taint", apiserver.Attributes{Resource: nodes, Verb: "update", Name: "a", Object: nrNode("a", nil, corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}), Old: nrNode("a", nil)},
			`not allowed to modify taints`},
		{"change allowed labels", apiserver.Attributes{Resource: nodes, Verb: "update", Name: "a", Object: nrNode("a", osLabels), Old: nrNode("a", nil)}, ""},
		{"remove restricted label", apiserver.Attributes{Resource: nodes, Verb: "update", Name: "a",
			Object: nrNode("a", nil), Old: nrNode("a", map[string]string{"node-restriction.kubernetes.io/trusted": "yes"})},
			`is not allowed to modify labels: node-restriction.kubernetes.io/trusted`},
		{"change kubernetes.io label", apiserver.Attributes{Resource: nodes, Verb: "update", Name: "a",
			Object: nrNode("a", map[string]string{"node-role.kubernetes.io/x": "b"}), Old: nrNode("a", map[string]string{"node-role.kubernetes.io/x": "a"})},
			`is not allowed to modify labels: node-role.kubernetes.io/x`},
		{"set config source", apiserver.Attributes{Resource: nodes, Verb: "update", Name: "a", Object: func() *corev1.Node {
			n := nrNode("a", nil)
			n.Spec.ConfigSource = &corev1.NodeConfigSource{}
			return n
		}(), Old: nrNode("a", nil)}, `node "a" is not allowed to update configSource to a new non-nil configSource`},

		// Leases.
		{"create own lease", apiserver.Attributes{Resource: leases, Verb: "create", Namespace: "kube-node-lease", Object: lease("a", nodeOwner("a", "node-uid-a"))}, ""},
		{"create own lease without owner", apiserver.Attributes{Resource: leases, Verb: "create", Namespace: "kube-node-lease", Object: lease("a")}, ""},
		{"create other lease", apiserver.Attributes{Resource: leases, Verb: "create", Namespace: "kube-node-lease", Object: lease("b")},
			`can only access node lease with the same name as the requesting node`},
		{"lease elsewhere", apiserver.Attributes{Resource: leases, Verb: "create", Namespace: "kube-system", Object: lease("a")},
			`can only access leases in the "kube-node-lease" system namespace`},
		{"update own lease", apiserver.Attributes{Resource: leases, Verb: "update", Namespace: "kube-node-lease", Name: "a",
			Object: lease("a", nodeOwner("a", "old")), Old: lease("a", nodeOwner("a", "old"))}, ""},
		{"update other lease", apiserver.Attributes{Resource: leases, Verb: "update", Namespace: "kube-node-lease", Name: "b", Object: lease("b"), Old: lease("b")},
			`can only access node lease with the same name as the requesting node`},
		{"delete other lease", apiserver.Attributes{Resource: leases, Verb: "delete", Namespace: "kube-node-lease", Name: "b", Old: lease("b")},
			`can only access node lease with the same name`},
		{"lease owned by other node", apiserver.Attributes{Resource: leases, Verb: "create", Namespace: "kube-node-lease", Object: lease("a", nodeOwner("b", "x"))},
			`node "a" can only create leases with an owner reference set to itself`},
		{"lease owner uid mismatch", apiserver.Attributes{Resource: leases, Verb: "update", Namespace: "kube-node-lease", Name: "a",
			Object: lease("a", nodeOwner("a", "stale")), Old: lease("a")}, `node a UID mismatch`},

		// CSINodes.
		{"create own csinode", apiserver.Attributes{Resource: csinodes, Verb: "create", Object: &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "a"}}}, ""},
		{"create other csinode", apiserver.Attributes{Resource: csinodes, Verb: "create", Object: &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "b"}}},
			`can only access CSINode with the same name as the requesting node`},
		{"update other csinode", apiserver.Attributes{Resource: csinodes, Verb: "update", Name: "b", Object: &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "b"}}},
			`can only access CSINode with the same name`},

		// Service account tokens.
		{"token bound to own pod", apiserver.Attributes{Resource: sas, Verb: "create", Subresource: "token", Namespace: "ns", Name: "default", Object: token(podRef("mine", "uid-mine"))}, ""},
		{"token unbound", apiserver.Attributes{Resource: sas, Verb: "create", Subresource: "token", Namespace: "ns", Name: "default", Object: token(nil)},
			`serviceaccounts "default" is forbidden: node requested token not bound to a pod`},
		{"token bound to a secret", apiserver.Attributes{Resource: sas, Verb: "create", Subresource: "token", Namespace: "ns", Name: "default",
			Object: token(&authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Secret", Name: "s", UID: "u"})}, `node requested token not bound to a pod`},
		{"token without uid", apiserver.Attributes{Resource: sas, Verb: "create", Subresource: "token", Namespace: "ns", Name: "default", Object: token(podRef("mine", ""))},
			`node requested token with a pod binding without a uid`},
		{"token uid mismatch", apiserver.Attributes{Resource: sas, Verb: "create", Subresource: "token", Namespace: "ns", Name: "default", Object: token(podRef("mine", "old"))},
			`the UID in the bound object reference (old) does not match the UID in record`},
		{"token bound to other node's pod", apiserver.Attributes{Resource: sas, Verb: "create", Subresource: "token", Namespace: "ns", Name: "default", Object: token(podRef("theirs", "uid-theirs"))},
			`node requested token bound to a pod scheduled on a different node`},
		{"token bound to missing pod", apiserver.Attributes{Resource: sas, Verb: "create", Subresource: "token", Namespace: "ns", Name: "default", Object: token(podRef("ghost", "u"))}, "notfound"},

		// Claims.
		{"claim capacity", apiserver.Attributes{Resource: pvcs, Verb: "update", Subresource: "status", Namespace: "ns", Name: "data",
			Object: pvc("2Gi", func(c *corev1.PersistentVolumeClaim) { c.ResourceVersion = "" }), Old: pvc("1Gi", nil)}, ""},
		{"claim phase", apiserver.Attributes{Resource: pvcs, Verb: "update", Subresource: "status", Namespace: "ns", Name: "data",
			Object: pvc("1Gi", func(c *corev1.PersistentVolumeClaim) { c.Status.Phase = corev1.ClaimLost }), Old: pvc("1Gi", nil)},
			`node "a" is not allowed to update fields other than status.capacity and status.conditions`},
		{"claim spec", apiserver.Attributes{Resource: pvcs, Verb: "update", Namespace: "ns", Name: "data", Object: pvc("1Gi", nil), Old: pvc("1Gi", nil)},
			`may only update PVC status`},

		// Other resources are not this plug-in's business.
		{"configmap", apiserver.Attributes{Resource: nrRes("", "configmaps"), Verb: "create", Namespace: "ns", Object: &corev1.ConfigMap{}}, ""},
	}
	p := nrPlugin()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.a
			a.User = nrNodeUser("a")
			err := p.Admit(&a)
			switch {
			case tt.want == "":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case tt.want == "notfound":
				if !apierrors.IsNotFound(err) {
					t.Fatalf("err = %v, want NotFound", err)
				}
			default:
				if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want Forbidden containing %q", err, tt.want)
				}
			}
		})
	}
}

func TestNodeRestrictionIgnoresOtherUsers(t *testing.T) {
	p := nrPlugin()
	for _, u := range []*user.Info{
		nil,
		{Name: "admin", Groups: []string{user.SystemPrivilegedGroup}},
		{Name: "system:node:a"},                        // not in system:nodes
		{Name: "a", Groups: []string{user.NodesGroup}}, // no node prefix
	} {
		a := &apiserver.Attributes{Resource: nrRes("", "pods"), Verb: "create", Namespace: "ns", Object: nrPod("x", "b"), User: u}
		if err := p.Admit(a); err != nil {
			t.Errorf("user %v: %v", u, err)
		}
	}
}

func TestNodeRestrictionUnknownNode(t *testing.T) {
	a := &apiserver.Attributes{Resource: nrRes("", "nodes"), Verb: "update", Name: "a", Object: nrNode("a", nil), Old: nrNode("a", nil),
		User: &user.Info{Name: "system:node:", Groups: []string{user.NodesGroup}}}
	err := nrPlugin().Admit(a)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `could not determine node from user "system:node:"`) {
		t.Errorf("err = %v", err)
	}
}
