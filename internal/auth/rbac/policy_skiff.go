package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// User names of Skiff's components. Each is bound to the ClusterRole of
// the same name; KubeProxyUser is bound to system:node-proxier, as in
// Kubernetes.
const (
	KubeSchedulerUser         = "system:kube-scheduler"
	KubeControllerManagerUser = "system:kube-controller-manager"
	KubeProxyUser             = "system:kube-proxy"
	SkiffDNSUser              = "system:skiff-dns"
	SkiffIngressUser          = "system:skiff-ingress"
	// SkiffNodeIngressRole lets nodes read what their ingress proxy routes.
	SkiffNodeIngressRole = "system:skiff-node-ingress"
	SkiffServiceLBUser   = "system:skiff-servicelb"
	// MonitoringGroup may read the metrics and health endpoints.
	MonitoringGroup = "system:monitoring"
)

// Leases the components hold in kube-system while leading.
const (
	controllerManagerLease = "skiff-controller-manager"
	ingressStatusLease     = "skiff-ingress-status"
)

// dnsServiceName is the Service (and EndpointSlice owner) skiff-dns keeps
// in kube-system.
const dnsServiceName = "kube-dns"

// leaderLease lets a component create and renew its own leader-election
// Lease, and no other.
func leaderLease(name string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(verbs("create"), coordinationGroup, "leases"),
		named(rule(verbs("get", "update", "patch"), coordinationGroup, "leases"), name),
	}
}

// skiffClusterRoles are the roles of Skiff's own components.
func skiffClusterRoles() []*rbacv1.ClusterRole {
	return []*rbacv1.ClusterRole{
		clusterRole(KubeControllerManagerUser, controllerManagerRules()...),
		clusterRole(SkiffDNSUser,
			rule(verbs("list", "watch"), coreGroup, "services", "pods", "namespaces"),
			rule(verbs("list", "watch"), discoveryGroup, "endpointslices")),
		clusterRole(SkiffIngressUser, append([]rbacv1.PolicyRule{
			rule(read(), networkingGroup, "ingresses", "ingressclasses"),
			// The default IngressClass is created at start when missing.
			rule(verbs("create"), networkingGroup, "ingressclasses"),
			rule(verbs("update", "patch"), networkingGroup, "ingresses/status"),
			rule(read(), coreGroup, "services", "secrets", "nodes"),
			rule(read(), discoveryGroup, "endpointslices"),
			eventsRule(),
		}, leaderLease(ingressStatusLease)...)...),
		// Every `skiff agent` runs an ingress proxy (plain HTTP) as its
		// node: it needs the routing objects, which the Node authorizer
		// does not cover.
		clusterRole(SkiffNodeIngressRole, rule(read(), networkingGroup, "ingresses", "ingressclasses")),
		// servicelb runs inside the controller manager today; this
		// identity is for running it on its own.
		clusterRole(SkiffServiceLBUser,
			rule(read(), coreGroup, "services", "nodes"),
			rule(verbs("update", "patch"), coreGroup, "services/status"),
			eventsRule()),
	}
}

// controllerManagerRules are what the controllers in internal/controller
// need, running together as one user. They are necessarily broad: the
// garbage collector and the namespace controller update and delete objects
// of every kind, including custom resources, and the ClusterRole
// aggregation controller must "escalate" to write rules it does not hold.
// This identity is therefore as powerful as cluster-admin in practice and
// its credentials must be guarded as such.
func controllerManagerRules() []rbacv1.PolicyRule {
	rules := []rbacv1.PolicyRule{
		// Shared informers, and the garbage collector's and namespace
		// controller's reads, updates (owner references, finalizers,
		// status subresources) and deletions of any kind.
		rule(verbs("get", "list", "watch", "update", "patch", "delete", "deletecollection"), "*", "*"),
		// Objects the controllers create.
		rule(verbs("create"), coreGroup, "pods", "pods/eviction", "pods/binding", "events", "endpoints", "serviceaccounts",
			"serviceaccounts/token", "secrets", "configmaps", "persistentvolumeclaims", "persistentvolumes"),
		rule(verbs("create"), appsGroup, "replicasets", "controllerrevisions"),
		rule(verbs("create"), batchGroup, "jobs"),
		rule(verbs("create"), discoveryGroup, "endpointslices"),
		rule(verbs("create"), eventsGroup, "events"),
		// Certificate signing requests: csrapproving approves only node
		// client and node serving certificates; csrsigning signs for the
		// built-in signers.
		named(rule(verbs("approve"), certificatesGroup, "signers"), "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving"),
		named(rule(verbs("sign"), certificatesGroup, "signers"),
			"kubernetes.io/kube-apiserver-client", "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving"),
		// Delegated authentication and authorization checks.
		rule(verbs("create"), authnGroup, "tokenreviews"),
		rule(verbs("create"), authzGroup, "subjectaccessreviews"),
		// The ClusterRole aggregation controller writes aggregated rules.
		rule(verbs("escalate"), rbacv1.GroupName, "clusterroles"),
	}
	return append(rules, leaderLease(controllerManagerLease)...)
}

// DefaultRoles returns the namespaced Roles of the default policy: what
// skiff-dns may write in kube-system to publish the kube-dns Service.
func DefaultRoles() []*rbacv1.Role {
	meta := defaultMeta(SkiffDNSUser)
	meta.Namespace = metav1.NamespaceSystem
	return []*rbacv1.Role{{
		ObjectMeta: meta,
		Rules: []rbacv1.PolicyRule{
			// create cannot be limited by name (the name is in the body).
			rule(verbs("create"), coreGroup, "services"),
			named(rule(verbs("get", "update", "patch"), coreGroup, "services"), dnsServiceName),
			rule(verbs("get", "list", "watch", "create", "update", "patch", "delete"), discoveryGroup, "endpointslices"),
		},
	}}
}

// DefaultRoleBindings returns the RoleBindings of the default policy.
func DefaultRoleBindings() []*rbacv1.RoleBinding {
	meta := defaultMeta(SkiffDNSUser)
	meta.Namespace = metav1.NamespaceSystem
	return []*rbacv1.RoleBinding{{
		ObjectMeta: meta,
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: SkiffDNSUser},
		Subjects:   []rbacv1.Subject{userSubject(SkiffDNSUser)},
	}}
}
