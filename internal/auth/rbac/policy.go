package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Metadata every default policy object carries, as in Kubernetes: the
// label identifies the bootstrap policy and the annotation lets
// EnsureDefaults add missing rules and subjects at each start (an
// administrator who sets it to "false" keeps the object as they wrote it).
const (
	BootstrapLabel       = "kubernetes.io/bootstrapping"
	BootstrapLabelValue  = "rbac-defaults"
	AutoUpdateAnnotation = rbacv1.AutoUpdateAnnotationKey
)

// Labels the aggregated user-facing roles select on.
const (
	AggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
	AggregateToEdit  = "rbac.authorization.k8s.io/aggregate-to-edit"
	AggregateToView  = "rbac.authorization.k8s.io/aggregate-to-view"
)

// defaultMeta is the metadata of a default object.
func defaultMeta(name string, extraLabels ...string) metav1.ObjectMeta {
	l := map[string]string{BootstrapLabel: BootstrapLabelValue}
	for i := 0; i+1 < len(extraLabels); i += 2 {
		l[extraLabels[i]] = extraLabels[i+1]
	}
	return metav1.ObjectMeta{Name: name, Labels: l, Annotations: map[string]string{AutoUpdateAnnotation: "true"}}
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: defaultMeta(name), Rules: rules}
}

// aggregatedRole selects the roles labelled selectLabel; labels are added
// to it so that it is itself aggregated (edit into admin, view into edit).
func aggregatedRole(name, selectLabel string, labels ...string) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		ObjectMeta: defaultMeta(name, labels...),
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{selectLabel: "true"}},
		}},
	}
}

// DefaultClusterRoles returns the ClusterRoles of the default policy,
// freshly built on every call: Kubernetes' bootstrap roles (cluster-admin,
// the aggregated admin/edit/view with the system:aggregate-to-* roles that
// carry their rules, discovery, node, scheduler, DNS and certificate roles)
// and the roles of Skiff's own components. Aggregated roles are returned
// without rules: the aggregation controller fills them in.
func DefaultClusterRoles() []*rbacv1.ClusterRole {
	roles := []*rbacv1.ClusterRole{
		clusterRole("cluster-admin",
			rule(verbs("*"), "*", "*"),
			urls(verbs("*"), "*")),
		clusterRole("system:discovery",
			urls(verbs("get"), "/livez", "/readyz", "/healthz", "/version", "/version/",
				"/openapi", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*")),
		clusterRole("system:monitoring",
			urls(verbs("get"), "/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz",
				"/livez/*", "/readyz/*", "/healthz/*")),
		clusterRole("system:basic-user",
			rule(verbs("create"), authzGroup, "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
			rule(verbs("create"), authnGroup, "selfsubjectreviews")),
		clusterRole("system:public-info-viewer",
			urls(verbs("get"), "/livez", "/readyz", "/healthz", "/version", "/version/")),
		aggregatedRole("admin", AggregateToAdmin),
		aggregatedRole("edit", AggregateToEdit, AggregateToAdmin, "true"),
		aggregatedRole("view", AggregateToView, AggregateToEdit, "true"),
		aggregateToAdmin(),
		aggregateToEdit(),
		aggregateToView(),
		clusterRole("system:node", nodeRules()...),
		clusterRole("system:node-proxier",
			rule(verbs("list", "watch"), coreGroup, "services", "endpoints"),
			rule(read(), coreGroup, "nodes"),
			eventsRule(),
			rule(verbs("list", "watch"), discoveryGroup, "endpointslices")),
		clusterRole("system:node-bootstrapper",
			rule(verbs("create", "get", "list", "watch"), certificatesGroup, "certificatesigningrequests")),
		clusterRole("system:certificates.k8s.io:certificatesigningrequests:nodeclient",
			rule(verbs("create"), certificatesGroup, "certificatesigningrequests/nodeclient")),
		clusterRole("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
			rule(verbs("create"), certificatesGroup, "certificatesigningrequests/selfnodeclient")),
		clusterRole("system:service-account-issuer-discovery",
			urls(verbs("get"), "/.well-known/openid-configuration", "/.well-known/openid-configuration/",
				"/openid/v1/jwks", "/openid/v1/jwks/")),
		clusterRole("system:auth-delegator",
			rule(verbs("create"), authnGroup, "tokenreviews"),
			rule(verbs("create"), authzGroup, "subjectaccessreviews")),
		clusterRole("system:kube-dns",
			rule(verbs("list", "watch"), coreGroup, "endpoints", "services"),
			rule(verbs("list", "watch"), discoveryGroup, "endpointslices")),
		clusterRole("system:kube-scheduler", kubeSchedulerRules()...),
		clusterRole("system:volume-scheduler",
			rule(readUpdate(), coreGroup, "persistentvolumes"),
			rule(read(), storageGroup, "storageclasses"),
			rule(readUpdate(), coreGroup, "persistentvolumeclaims")),
	}
	return append(roles, skiffClusterRoles()...)
}

// aggregateToAdmin is what admin adds to edit: managing the namespace's
// roles and bindings (subject to the escalation check) and asking what
// others may do there.
func aggregateToAdmin() *rbacv1.ClusterRole {
	r := clusterRole("system:aggregate-to-admin",
		rule(verbs("create"), authzGroup, "localsubjectaccessreviews"),
		rule(readWrite(), rbacv1.GroupName, "roles", "rolebindings"))
	r.Labels[AggregateToAdmin] = "true"
	return r
}

// aggregateToEdit is what edit adds to view: writing workloads and their
// configuration, reading secrets and running commands in pods. It leaves
// out roles and bindings, quotas and limits, the namespace itself, and
// endpoints/endpointslices writes (which Kubernetes removed from edit
// because they let a user redirect other users' traffic).
func aggregateToEdit() *rbacv1.ClusterRole {
	r := clusterRole("system:aggregate-to-edit",
		rule(read(), coreGroup, "pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"),
		rule(verbs("impersonate"), coreGroup, "serviceaccounts"),
		rule(write(), coreGroup, "pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"),
		rule(write(), coreGroup, "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
			"services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets"),
		rule(write(), appsGroup, "statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
			"deployments/rollback", "replicasets", "replicasets/scale"),
		rule(write(), autoscalingGroup, "horizontalpodautoscalers"),
		rule(write(), batchGroup, "jobs", "cronjobs"),
		rule(write(), extensionsGroup, "daemonsets", "deployments", "deployments/scale", "deployments/rollback", "ingresses",
			"replicasets", "replicasets/scale", "replicationcontrollers/scale", "networkpolicies"),
		rule(write(), policyGroup, "poddisruptionbudgets"),
		rule(write(), networkingGroup, "networkpolicies", "ingresses"))
	r.Labels[AggregateToEdit] = "true"
	return r
}

// aggregateToView reads what a namespace holds, except secrets (whose
// tokens would let a viewer act as a service account) and roles.
func aggregateToView() *rbacv1.ClusterRole {
	r := clusterRole("system:aggregate-to-view",
		rule(read(), coreGroup, "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
			"services", "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"),
		rule(read(), coreGroup, "limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status",
			"namespaces/status", "replicationcontrollers/status", "pods/log"),
		// Reading namespaces through a RoleBinding reads only that
		// namespace: a hint of where the user has access.
		rule(read(), coreGroup, "namespaces"),
		rule(read(), discoveryGroup, "endpointslices"),
		rule(read(), appsGroup, "controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
			"daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
			"replicasets", "replicasets/status", "replicasets/scale"),
		rule(read(), autoscalingGroup, "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
		rule(read(), batchGroup, "jobs", "cronjobs", "cronjobs/status", "jobs/status"),
		rule(read(), extensionsGroup, "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
			"ingresses", "ingresses/status", "replicasets", "replicasets/scale", "replicasets/status",
			"replicationcontrollers/scale", "networkpolicies"),
		rule(read(), policyGroup, "poddisruptionbudgets", "poddisruptionbudgets/status"),
		rule(read(), networkingGroup, "networkpolicies", "ingresses", "ingresses/status"))
	r.Labels[AggregateToView] = "true"
	return r
}

// nodeRules are Kubernetes' system:node rules. Kubernetes no longer binds
// them (the Node authorizer and NodeRestriction admission scope a node to
// its own objects); the role stays for clusters that bind it themselves.
func nodeRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(verbs("create"), authnGroup, "tokenreviews"),
		rule(verbs("create"), authzGroup, "subjectaccessreviews", "localsubjectaccessreviews"),
		rule(read(), coreGroup, "services"),
		rule(verbs("create", "get", "list", "watch"), coreGroup, "nodes"),
		rule(verbs("update", "patch"), coreGroup, "nodes/status"),
		rule(verbs("update", "patch"), coreGroup, "nodes"),
		rule(verbs("create", "update", "patch"), coreGroup, "events"),
		rule(read(), coreGroup, "pods"),
		rule(verbs("create", "delete"), coreGroup, "pods"),
		rule(verbs("update", "patch"), coreGroup, "pods/status"),
		rule(verbs("create"), coreGroup, "pods/eviction"),
		rule(read(), coreGroup, "secrets", "configmaps"),
		rule(verbs("get"), coreGroup, "persistentvolumeclaims", "persistentvolumes"),
		rule(verbs("get"), coreGroup, "endpoints"),
		rule(verbs("create", "get", "list", "watch"), certificatesGroup, "certificatesigningrequests"),
		rule(verbs("get", "create", "update", "patch", "delete"), coordinationGroup, "leases"),
		rule(verbs("get"), storageGroup, "volumeattachments"),
		rule(verbs("get", "update", "patch"), coreGroup, "persistentvolumeclaims/status"),
		rule(verbs("create"), coreGroup, "serviceaccounts/token"),
		rule(read(), storageGroup, "csidrivers"),
		rule(verbs("get", "create", "update", "patch", "delete"), storageGroup, "csinodes"),
		rule(read(), nodeGroup, "runtimeclasses"),
	}
}

// kubeSchedulerRules are Kubernetes' system:kube-scheduler rules plus the
// PriorityClasses Skiff's scheduler watches.
func kubeSchedulerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		eventsRule(),
		rule(verbs("create"), coordinationGroup, "leases"),
		named(rule(verbs("get", "update"), coordinationGroup, "leases"), "kube-scheduler"),
		rule(read(), coreGroup, "nodes"),
		rule(verbs("get", "list", "watch", "delete"), coreGroup, "pods"),
		rule(verbs("create"), coreGroup, "pods/binding", "bindings"),
		rule(verbs("patch", "update"), coreGroup, "pods/status"),
		rule(read(), coreGroup, "services", "replicationcontrollers"),
		groupsRule(read(), []string{appsGroup, extensionsGroup}, "replicasets"),
		rule(read(), appsGroup, "statefulsets"),
		rule(read(), policyGroup, "poddisruptionbudgets"),
		rule(read(), coreGroup, "persistentvolumeclaims", "persistentvolumes"),
		rule(verbs("create"), authnGroup, "tokenreviews"),
		rule(verbs("create"), authzGroup, "subjectaccessreviews"),
		rule(read(), storageGroup, "csinodes"),
		rule(read(), coreGroup, "namespaces"),
		rule(read(), storageGroup, "csidrivers"),
		rule(read(), storageGroup, "csistoragecapacities"),
		rule(read(), schedulingGroup, "priorityclasses"),
	}
}
