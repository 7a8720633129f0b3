package node

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fakeSource serves fixed objects; err, when set, is returned by every
// getter.
type fakeSource struct {
	pods []*corev1.Pod
	pvcs []*corev1.PersistentVolumeClaim
	pvs  []*corev1.PersistentVolume
	err  error
}

func (f *fakeSource) PodsOnNode(nodeName string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range f.pods {
		if p.Spec.NodeName == nodeName {
			out = append(out, p)
		}
	}
	return out
}

func (f *fakeSource) GetPod(ns, name string) (*corev1.Pod, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, p := range f.pods {
		if p.Namespace == ns && p.Name == name {
			return p, nil
		}
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, name)
}

func (f *fakeSource) GetPVC(ns, name string) (*corev1.PersistentVolumeClaim, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, p := range f.pvcs {
		if p.Namespace == ns && p.Name == name {
			return p, nil
		}
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "persistentvolumeclaims"}, name)
}

func (f *fakeSource) GetPV(name string) (*corev1.PersistentVolume, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, p := range f.pvs {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "persistentvolumes"}, name)
}

func nodeUser(name string) *user.Info {
	return &user.Info{Name: user.NodeUserPrefix + name, Groups: []string{user.NodesGroup, user.AllAuthenticated}}
}

func fixture() *fakeSource {
	envPod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.PodSpec{
			NodeName:           "a",
			ServiceAccountName: "web-sa",
			ImagePullSecrets:   []corev1.LocalObjectReference{{Name: "pull"}},
			InitContainers: []corev1.Container{{Name: "init", EnvFrom: []corev1.EnvFromSource{
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "init-env"}}},
				{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "init-cm"}}},
			}}},
			Containers: []corev1.Container{{Name: "c", Env: []corev1.EnvVar{
				{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "env-secret"}, Key: "k"}}},
				{Name: "C", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "env-cm"}, Key: "k"}}},
			}}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Env: []corev1.EnvVar{
				{Name: "E", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "debug-secret"}, Key: "k"}}},
			}}}},
			Volumes: []corev1.Volume{
				{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "vol-secret"}}},
				{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "vol-cm"}}}},
				{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
					{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proj-secret"}}},
				}}}},
				{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
				{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
			},
		},
	}
	// bPod runs on node b and references its own objects.
	bPod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b-pod"},
		Spec: corev1.PodSpec{NodeName: "b", ServiceAccountName: "b-sa", Volumes: []corev1.Volume{
			{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "b-secret"}}},
		}},
	}
	// pending is not bound to any node yet.
	pending := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "pending"},
		Spec: corev1.PodSpec{ServiceAccountName: "pending-sa", Volumes: []corev1.Volume{
			{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "pending-secret"}}},
		}},
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data", UID: "pvc-uid"},
		Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: "pv-data"},
	}
	ephemeralPVC := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-scratch", UID: "eph-uid"},
		Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: "pv-lying"},
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-data"},
		Spec: corev1.PersistentVolumeSpec{
			ClaimRef: &corev1.ObjectReference{Namespace: "ns", Name: "data", UID: "pvc-uid"},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver:                     "d",
				NodePublishSecretRef:       &corev1.SecretReference{Namespace: "storage", Name: "csi-publish"},
				ControllerPublishSecretRef: &corev1.SecretReference{Namespace: "storage", Name: "csi-controller"},
			}},
		},
	}
	// pvLying is named by the ephemeral claim but bound to another claim:
	// its secrets must stay out of reach.
	pvLying := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-lying"},
		Spec: corev1.PersistentVolumeSpec{
			ClaimRef: &corev1.ObjectReference{Namespace: "other", Name: "theirs"},
			PersistentVolumeSource: corev1.PersistentVolumeSource{RBD: &corev1.RBDPersistentVolumeSource{
				SecretRef: &corev1.SecretReference{Name: "rbd-secret"},
			}},
		},
	}
	// pvByClaimRef claims the ephemeral claim but the claim does not name it.
	pvByClaimRef := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-claimref"},
		Spec:       corev1.PersistentVolumeSpec{ClaimRef: &corev1.ObjectReference{Namespace: "ns", Name: "web-scratch"}},
	}
	pvOther := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-other"}}
	return &fakeSource{
		pods: []*corev1.Pod{envPod, bPod, pending},
		pvcs: []*corev1.PersistentVolumeClaim{pvc, ephemeralPVC},
		pvs:  []*corev1.PersistentVolume{pv, pvLying, pvByClaimRef, pvOther},
	}
}

func res(verb, group, resource, sub, ns, name string) authorizer.Attributes {
	return authorizer.Attributes{User: nodeUser("a"), Verb: verb, ResourceRequest: true, APIGroup: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}

func TestAuthorize(t *testing.T) {
	allow, none := authorizer.Allow, authorizer.NoOpinion
	tests := []struct {
		name   string
		attrs  authorizer.Attributes
		want   authorizer.Decision
		reason string // substring of the reason, when checked
	}{
		// Secrets through every kind of reference.
		{"secret via volume", res("get", "", "secrets", "", "ns", "vol-secret"), allow, ""},
		{"secret via projected volume", res("get", "", "secrets", "", "ns", "proj-secret"), allow, ""},
		{"secret via image pull", res("get", "", "secrets", "", "ns", "pull"), allow, ""},
		{"secret via init envFrom", res("get", "", "secrets", "", "ns", "init-env"), allow, ""},
		{"secret via env", res("get", "", "secrets", "", "ns", "env-secret"), allow, ""},
		{"secret via ephemeral container", res("get", "", "secrets", "", "ns", "debug-secret"), allow, ""},
		{"secret watch by name", res("watch", "", "secrets", "", "ns", "vol-secret"), allow, ""},
		{"secret list by name", res("list", "", "secrets", "", "ns", "vol-secret"), allow, ""},
		{"secret list all", res("list", "", "secrets", "", "ns", ""), none, "No Object name found"},
		{"secret other namespace", res("get", "", "secrets", "", "other", "vol-secret"), none, "no relationship found between node 'a' and this object"},
		{"secret of pod on b", res("get", "", "secrets", "", "ns", "b-secret"), none, "no relationship found between node 'a'"},
		{"secret of unbound pod", res("get", "", "secrets", "", "ns", "pending-secret"), none, "no relationship"},
		{"secret update", res("update", "", "secrets", "", "ns", "vol-secret"), none, "can only read resources of this type"},
		{"secret cluster-wide", res("get", "", "secrets", "", "", "vol-secret"), none, "can only read namespaced object"},
		{"secret via bound pv", res("get", "", "secrets", "", "storage", "csi-publish"), allow, ""},
		{"pv controller secret", res("get", "", "secrets", "", "storage", "csi-controller"), none, "no relationship"},
		{"secret of pv bound elsewhere", res("get", "", "secrets", "", "ns", "rbd-secret"), none, "no relationship"},
		{"secret of pv bound elsewhere, its namespace", res("get", "", "secrets", "", "other", "rbd-secret"), none, "no relationship"},
		// Config maps.
		{"configmap via volume", res("get", "", "configmaps", "", "ns", "vol-cm"), allow, ""},
		{"configmap via env", res("get", "", "configmaps", "", "ns", "env-cm"), allow, ""},
		{"configmap via init envFrom", res("get", "", "configmaps", "", "ns", "init-cm"), allow, ""},
		{"kube-root-ca.crt via projection", res("get", "", "configmaps", "", "ns", "kube-root-ca.crt"), allow, ""},
		{"kube-root-ca.crt elsewhere", res("get", "", "configmaps", "", "other", "kube-root-ca.crt"), none, "no relationship"},
		{"configmap unrelated", res("get", "", "configmaps", "", "ns", "nope"), none, "no relationship"},
		// Claims and volumes.
		{"pvc mounted", res("get", "", "persistentvolumeclaims", "", "ns", "data"), allow, ""},
		{"pvc ephemeral", res("get", "", "persistentvolumeclaims", "", "ns", "web-scratch"), allow, ""},
		{"pvc unrelated", res("get", "", "persistentvolumeclaims", "", "ns", "other"), none, "no relationship"},
		{"pvc delete", res("delete", "", "persistentvolumeclaims", "", "ns", "data"), none, "can only read"},
		{"pvc status update", res("update", "", "persistentvolumeclaims", "status", "ns", "data"), allow, ""},
		{"pvc status of unrelated", res("patch", "", "persistentvolumeclaims", "status", "ns", "other"), none, "no relationship"},
		{"pv via claim", res("get", "", "persistentvolumes", "", "", "pv-data"), allow, ""},
		{"pv named by claim", res("get", "", "persistentvolumes", "", "", "pv-lying"), allow, ""},
		{"pv via claimRef", res("get", "", "persistentvolumes", "", "", "pv-claimref"), allow, ""},
		{"pv unrelated", res("get", "", "persistentvolumes", "", "", "pv-other"), none, "no relationship"},
		{"pv missing", res("get", "", "persistentvolumes", "", "", "ghost"), none, "no relationship"},
		// Service accounts and tokens.
		{"sa of pod", res("get", "", "serviceaccounts", "", "ns", "web-sa"), allow, ""},
		{"sa of pod on b", res("get", "", "serviceaccounts", "", "ns", "b-sa"), none, "no relationship"},
		{"token for pod's sa", res("create", "", "serviceaccounts", "token", "ns", "web-sa"), allow, ""},
		{"token for other sa", res("create", "", "serviceaccounts", "token", "ns", "b-sa"), none, "no relationship"},
		{"token for unbound pod's sa", res("create", "", "serviceaccounts", "token", "ns", "pending-sa"), none, "no relationship"},
		{"token get", res("get", "", "serviceaccounts", "token", "ns", "web-sa"), none, "can only create tokens"},
		{"sa update", res("update", "", "serviceaccounts", "", "ns", "web-sa"), none, "can only read"},
		// Nodes.
		{"get own node", res("get", "", "nodes", "", "", "a"), allow, ""},
		{"get other node", res("get", "", "nodes", "", "", "b"), allow, ""},
		{"list nodes", res("list", "", "nodes", "", "", ""), allow, ""},
		{"watch nodes", res("watch", "", "nodes", "", "", ""), allow, ""},
		{"create node", res("create", "", "nodes", "", "", ""), allow, ""},
		{"update own node", res("update", "", "nodes", "", "", "a"), allow, ""},
		{"update other node", res("update", "", "nodes", "", "", "b"), none, "only modify its own Node"},
		{"patch other node", res("patch", "", "nodes", "", "", "b"), none, "only modify its own Node"},
		{"delete own node", res("delete", "", "nodes", "", "", "a"), allow, ""},
		{"delete other node", res("delete", "", "nodes", "", "", "b"), none, "only modify its own Node"},
		{"own node status", res("update", "", "nodes", "status", "", "a"), allow, ""},
		{"other node status", res("patch", "", "nodes", "status", "", "b"), none, "only modify its own Node"},
		{"node proxy", res("get", "", "nodes", "proxy", "", "a"), none, ""},
		{"deletecollection nodes", res("deletecollection", "", "nodes", "", "", ""), none, ""},
		// Leases and CSINodes.
		{"own lease patch", res("patch", "coordination.k8s.io", "leases", "", "kube-node-lease", "a"), allow, ""},
		{"lease create", res("create", "coordination.k8s.io", "leases", "", "kube-node-lease", ""), allow, ""},
		{"other lease", res("update", "coordination.k8s.io", "leases", "", "kube-node-lease", "b"), none, "same name as the requesting node"},
		{"lease other namespace", res("get", "coordination.k8s.io", "leases", "", "kube-system", "a"), none, `can only access leases in the "kube-node-lease" system namespace`},
		{"lease list", res("list", "coordination.k8s.io", "leases", "", "kube-node-lease", ""), none, "can only get, create"},
		{"own csinode", res("update", "storage.k8s.io", "csinodes", "", "", "a"), allow, ""},
		{"other csinode", res("get", "storage.k8s.io", "csinodes", "", "", "b"), none, "same name as the requesting node"},
		// Pods.
		{"get any pod", res("get", "", "pods", "", "ns", "b-pod"), allow, ""},
		{"list pods", res("list", "", "pods", "", "", ""), allow, ""},
		{"create pod", res("create", "", "pods", "", "ns", ""), none, "Skiff has no static or mirror pods"},
		{"own pod status", res("update", "", "pods", "status", "ns", "web"), allow, ""},
		{"own pod status patch", res("patch", "", "pods", "status", "ns", "web"), allow, ""},
		{"other pod status", res("update", "", "pods", "status", "ns", "b-pod"), none, "no relationship"},
		{"unbound pod status", res("update", "", "pods", "status", "ns", "pending"), none, "no relationship"},
		{"missing pod status answers NotFound later", res("update", "", "pods", "status", "ns", "ghost"), allow, ""},
		{"delete own pod", res("delete", "", "pods", "", "ns", "web"), allow, ""},
		{"delete other pod", res("delete", "", "pods", "", "ns", "b-pod"), none, "no relationship"},
		{"evict own pod", res("create", "", "pods", "eviction", "ns", "web"), allow, ""},
		{"evict other pod", res("create", "", "pods", "eviction", "ns", "b-pod"), none, "no relationship"},
		{"update pod", res("update", "", "pods", "", "ns", "web"), none, ""},
		{"exec", res("create", "", "pods", "exec", "ns", "web"), none, ""},
		// Static rules.
		{"events create", res("create", "", "events", "", "ns", ""), allow, ""},
		{"events.k8s.io patch", res("patch", "events.k8s.io", "events", "", "ns", "e"), allow, ""},
		{"events delete", res("delete", "", "events", "", "ns", "e"), none, ""},
		{"services watch", res("watch", "", "services", "", "", ""), allow, ""},
		{"services update", res("update", "", "services", "", "default", "kubernetes"), none, ""},
		{"endpoints list", res("list", "", "endpoints", "", "", ""), allow, ""},
		{"endpointslices list", res("list", "discovery.k8s.io", "endpointslices", "", "", ""), allow, ""},
		{"endpointslices update", res("update", "discovery.k8s.io", "endpointslices", "", "default", "x"), none, ""},
		{"csr create", res("create", "certificates.k8s.io", "certificatesigningrequests", "", "", ""), allow, ""},
		{"csr approve", res("update", "certificates.k8s.io", "certificatesigningrequests", "approval", "", "x"), none, ""},
		{"tokenreview", res("create", "authentication.k8s.io", "tokenreviews", "", "", ""), allow, ""},
		{"subjectaccessreview", res("create", "authorization.k8s.io", "subjectaccessreviews", "", "", ""), allow, ""},
		{"runtimeclasses", res("list", "node.k8s.io", "runtimeclasses", "", "", ""), allow, ""},
		{"volumeattachment get", res("get", "storage.k8s.io", "volumeattachments", "", "", "va"), allow, ""},
		{"volumeattachment list", res("list", "storage.k8s.io", "volumeattachments", "", "", ""), none, ""},
		{"namespaces", res("get", "", "namespaces", "", "", "ns"), none, ""},
		{"deployments", res("list", "apps", "deployments", "", "", ""), none, ""},
	}
	az := New(fixture())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, err := az.Authorize(context.Background(), tt.attrs)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got != tt.want {
				t.Errorf("decision = %v (reason %q), want %v", got, reason, tt.want)
			}
			if tt.reason != "" && !strings.Contains(reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", reason, tt.reason)
			}
		})
	}
}

func TestAuthorizeOtherNode(t *testing.T) {
	az := New(fixture())
	b := func(verb, resource, sub, ns, name string) authorizer.Attributes {
		a := res(verb, "", resource, sub, ns, name)
		a.User = nodeUser("b")
		return a
	}
	for _, tt := range []struct {
		attrs authorizer.Attributes
		want  authorizer.Decision
	}{
		{b("get", "secrets", "", "ns", "b-secret"), authorizer.Allow},
		{b("get", "secrets", "", "ns", "vol-secret"), authorizer.NoOpinion},
		{b("create", "serviceaccounts", "token", "ns", "b-sa"), authorizer.Allow},
		{b("create", "serviceaccounts", "token", "ns", "web-sa"), authorizer.NoOpinion},
		{b("update", "pods", "status", "ns", "b-pod"), authorizer.Allow},
		{b("update", "pods", "status", "ns", "web"), authorizer.NoOpinion},
		{b("update", "nodes", "", "", "a"), authorizer.NoOpinion},
	} {
		got, reason, err := az.Authorize(context.Background(), tt.attrs)
		if err != nil || got != tt.want {
			t.Errorf("%s %s/%s %s/%s = %v, %q, %v; want %v", tt.attrs.Verb, tt.attrs.Resource, tt.attrs.Subresource, tt.attrs.Namespace, tt.attrs.Name, got, reason, err, tt.want)
		}
	}
}

func TestAuthorizeNonNodes(t *testing.T) {
	az := New(fixture())
	secret := res("get", "", "secrets", "", "ns", "vol-secret")
	for _, tt := range []struct {
		name   string
		user   *user.Info
		reason string
	}{
		{"no user", nil, ""},
		{"node name without group", &user.Info{Name: "system:node:a"}, ""},
		{"group without node name", &user.Info{Name: "alice", Groups: []string{user.NodesGroup}}, ""},
		{"service account", &user.Info{Name: "system:serviceaccount:ns:web-sa", Groups: []string{user.ServiceAccountsGroup}}, ""},
		{"empty node name", &user.Info{Name: "system:node:", Groups: []string{user.NodesGroup}}, `unknown node for user "system:node:"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := secret
			a.User = tt.user
			got, reason, err := az.Authorize(context.Background(), a)
			if got != authorizer.NoOpinion || reason != tt.reason || err != nil {
				t.Errorf("= %v, %q, %v; want NoOpinion, %q, nil", got, reason, err, tt.reason)
			}
		})
	}
}

func TestAuthorizeNonResource(t *testing.T) {
	az := New(fixture())
	got, _, err := az.Authorize(context.Background(), authorizer.Attributes{User: nodeUser("a"), Verb: "get", Path: "/healthz"})
	if got != authorizer.NoOpinion || err != nil {
		t.Errorf("= %v, %v; want NoOpinion", got, err)
	}
}

func TestAuthorizeSourceError(t *testing.T) {
	src := fixture()
	src.err = errors.New("cache not ready")
	az := New(src)
	for _, a := range []authorizer.Attributes{
		res("update", "", "pods", "status", "ns", "web"),
		res("get", "", "persistentvolumes", "", "", "pv-data"),
		// Not referenced directly: the volume walk hits the error.
		res("get", "", "secrets", "", "storage", "csi-publish"),
	} {
		got, _, err := az.Authorize(context.Background(), a)
		if got != authorizer.NoOpinion || err == nil || !strings.Contains(err.Error(), "cache not ready") {
			t.Errorf("%s %s: = %v, %v; want NoOpinion and the source's error", a.Verb, a.Resource, got, err)
		}
	}
	// A direct reference needs no lookup and still works.
	if got, _, err := az.Authorize(context.Background(), res("get", "", "secrets", "", "ns", "vol-secret")); got != authorizer.Allow || err != nil {
		t.Errorf("direct secret = %v, %v; want Allow", got, err)
	}
}

func TestIdentity(t *testing.T) {
	for _, tt := range []struct {
		u      *user.Info
		name   string
		isNode bool
	}{
		{nodeUser("n1"), "n1", true},
		{&user.Info{Name: "system:node:", Groups: []string{user.NodesGroup}}, "", true},
		{&user.Info{Name: "system:node:n1"}, "", false},
		{&user.Info{Name: "n1", Groups: []string{user.NodesGroup}}, "", false},
		{nil, "", false},
	} {
		name, isNode := Identity(tt.u)
		if name != tt.name || isNode != tt.isNode {
			t.Errorf("Identity(%v) = %q, %v; want %q, %v", tt.u, name, isNode, tt.name, tt.isNode)
		}
	}
}
