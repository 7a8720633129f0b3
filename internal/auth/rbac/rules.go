package rbac

import rbacv1 "k8s.io/api/rbac/v1"

// API groups the default policy names.
const (
	coreGroup          = ""
	appsGroup          = "apps"
	authnGroup         = "authentication.k8s.io"
	authzGroup         = "authorization.k8s.io"
	autoscalingGroup   = "autoscaling"
	batchGroup         = "batch"
	certificatesGroup  = "certificates.k8s.io"
	coordinationGroup  = "coordination.k8s.io"
	discoveryGroup     = "discovery.k8s.io"
	eventsGroup        = "events.k8s.io"
	extensionsGroup    = "extensions"
	networkingGroup    = "networking.k8s.io"
	nodeGroup          = "node.k8s.io"
	policyGroup        = "policy"
	schedulingGroup    = "scheduling.k8s.io"
	storageGroup       = "storage.k8s.io"
	admissionRegGroup  = "admissionregistration.k8s.io"
	apiextensionsGroup = "apiextensions.k8s.io"
)

// Verb sets, as functions so that no caller can change a shared slice.
func read() []string       { return []string{"get", "list", "watch"} }
func write() []string      { return []string{"create", "update", "patch", "delete", "deletecollection"} }
func readWrite() []string  { return append(read(), write()...) }
func readUpdate() []string { return []string{"get", "list", "watch", "update", "patch"} }
func verbs(v ...string) []string {
	return v
}

// rule grants verbs on resources of one API group.
func rule(v []string, group string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: v, APIGroups: []string{group}, Resources: resources}
}

// groupsRule grants verbs on resources of several API groups.
func groupsRule(v []string, groups []string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: v, APIGroups: groups, Resources: resources}
}

// named restricts r to objects with the given names.
func named(r rbacv1.PolicyRule, names ...string) rbacv1.PolicyRule {
	r.ResourceNames = names
	return r
}

// urls grants verbs on non-resource URLs.
func urls(v []string, paths ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: v, NonResourceURLs: paths}
}

// eventsRule lets a component record events in both event APIs.
func eventsRule() rbacv1.PolicyRule {
	return groupsRule(verbs("create", "update", "patch"), []string{coreGroup, eventsGroup}, "events")
}
