package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

func TestDefaultPolicyIsConsistent(t *testing.T) {
	roles := map[string]bool{}
	for _, r := range DefaultClusterRoles() {
		if roles[r.Name] {
			t.Errorf("duplicate ClusterRole %s", r.Name)
		}
		roles[r.Name] = true
		if r.Labels[BootstrapLabel] != BootstrapLabelValue || r.Annotations[AutoUpdateAnnotation] != "true" {
			t.Errorf("ClusterRole %s lacks the bootstrap label or autoupdate annotation", r.Name)
		}
		if r.AggregationRule == nil && len(r.Rules) == 0 {
			t.Errorf("ClusterRole %s grants nothing", r.Name)
		}
		for _, rule := range r.Rules {
			if len(rule.Verbs) == 0 || (len(rule.Resources) == 0) == (len(rule.NonResourceURLs) == 0) {
				t.Errorf("ClusterRole %s has an invalid rule %s", r.Name, compactString(rule))
			}
		}
	}
	bound := map[string]bool{}
	for _, b := range DefaultClusterRoleBindings() {
		if b.RoleRef.Kind != "ClusterRole" || !roles[b.RoleRef.Name] {
			t.Errorf("ClusterRoleBinding %s refers to unknown %s %s", b.Name, b.RoleRef.Kind, b.RoleRef.Name)
		}
		if b.Labels[BootstrapLabel] != BootstrapLabelValue || b.Annotations[AutoUpdateAnnotation] != "true" || len(b.Subjects) == 0 {
			t.Errorf("ClusterRoleBinding %s is incomplete", b.Name)
		}
		bound[b.RoleRef.Name] = true
	}
	for _, notBound := range []string{"system:node", "admin", "edit", "view"} {
		if bound[notBound] {
			t.Errorf("%s must not be bound by default", notBound)
		}
	}
	nsRoles := map[string]bool{}
	for _, r := range DefaultRoles() {
		nsRoles[r.Namespace+"/"+r.Name] = true
	}
	for _, b := range DefaultRoleBindings() {
		if b.RoleRef.Kind == "Role" && !nsRoles[b.Namespace+"/"+b.RoleRef.Name] {
			t.Errorf("RoleBinding %s/%s refers to unknown Role %s", b.Namespace, b.Name, b.RoleRef.Name)
		}
	}
	// Fresh objects on every call: callers may modify them.
	DefaultClusterRoles()[0].Rules[0].Verbs[0] = "changed"
	if DefaultClusterRoles()[0].Rules[0].Verbs[0] != "*" {
		t.Fatal("DefaultClusterRoles must not share state between calls")
	}
}

// TestSkiffIdentities checks the component roles grant what their
// components do and, for the narrow ones, nothing more.
func TestSkiffIdentities(t *testing.T) {
	roles := map[string]*rbacv1.ClusterRole{}
	for _, r := range DefaultClusterRoles() {
		roles[r.Name] = r
	}
	type check struct {
		role, verb, group, resource, sub, name string
		want                                   bool
	}
	checks := []check{
		{KubeControllerManagerUser, "create", "apps", "replicasets", "", "", true},
		{KubeControllerManagerUser, "delete", "example.com", "widgets", "", "w", true},
		{KubeControllerManagerUser, "update", "", "namespaces", "finalize", "ns", true},
		{KubeControllerManagerUser, "escalate", rbacv1.GroupName, "clusterroles", "", "admin", true},
		{KubeControllerManagerUser, "approve", "certificates.k8s.io", "signers", "", "kubernetes.io/kube-apiserver-client-kubelet", true},
		{KubeControllerManagerUser, "approve", "certificates.k8s.io", "signers", "", "kubernetes.io/kubelet-serving", true},
		{KubeControllerManagerUser, "approve", "certificates.k8s.io", "signers", "", "kubernetes.io/kube-apiserver-client", false},
		{KubeControllerManagerUser, "sign", "certificates.k8s.io", "signers", "", "kubernetes.io/kubelet-serving", true},
		{KubeControllerManagerUser, "sign", "certificates.k8s.io", "signers", "", "example.com/custom", false},
		{KubeControllerManagerUser, "bind", rbacv1.GroupName, "clusterroles", "", "cluster-admin", false},
		{SkiffDNSUser, "watch", "discovery.k8s.io", "endpointslices", "", "", true},
		{SkiffDNSUser, "create", "", "services", "", "", false},
		{SkiffDNSUser, "get", "", "secrets", "", "s", false},
		{SkiffIngressUser, "update", "networking.k8s.io", "ingresses", "status", "i", true},
		{SkiffIngressUser, "update", "networking.k8s.io", "ingresses", "", "i", false},
		{SkiffIngressUser, "get", "", "secrets", "", "tls", true},
		{SkiffIngressUser, "update", "coordination.k8s.io", "leases", "", ingressStatusLease, true},
		{SkiffIngressUser, "update", "coordination.k8s.io", "leases", "", "kube-scheduler", false},
		{SkiffServiceLBUser, "update", "", "services", "status", "s", true},
		{SkiffServiceLBUser, "update", "", "services", "", "s", false},
		{"system:kube-scheduler", "create", "", "pods", "binding", "p", true},
		{"system:kube-scheduler", "update", "coordination.k8s.io", "leases", "", "kube-scheduler", true},
		{"system:kube-scheduler", "create", "", "pods", "", "", false},
		{"system:node-proxier", "watch", "discovery.k8s.io", "endpointslices", "", "", true},
	}
	for _, c := range checks {
		a := res(c.verb, c.group, c.resource, c.sub, c.name)
		got := false
		for i := range roles[c.role].Rules {
			if RuleAllows(a, &roles[c.role].Rules[i]) {
				got = true
			}
		}
		if got != c.want {
			t.Errorf("%s may %s %s/%s %q in %s: %v, want %v", c.role, c.verb, c.resource, c.sub, c.name, c.group, got, c.want)
		}
	}
	dnsRole := DefaultRoles()[0]
	if dnsRole.Namespace != "kube-system" {
		t.Fatalf("the DNS Role belongs in kube-system, not %q", dnsRole.Namespace)
	}
}
