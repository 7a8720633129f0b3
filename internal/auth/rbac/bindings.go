package rbac

import (
	"github.com/skiff-io/skiff/internal/auth/user"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func groupSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

// clusterBinding binds the ClusterRole role under the same name.
func clusterBinding(role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: defaultMeta(role),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   subjects,
	}
}

// DefaultClusterRoleBindings returns the ClusterRoleBindings of the default
// policy, freshly built on every call. system:node is deliberately not
// bound (nodes are authorized by the Node authorizer), nor are admin, edit
// and view (administrators bind them).
func DefaultClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	return []*rbacv1.ClusterRoleBinding{
		clusterBinding("cluster-admin", groupSubject(user.SystemPrivilegedGroup)),
		clusterBinding("system:discovery", groupSubject(user.AllAuthenticated)),
		clusterBinding("system:basic-user", groupSubject(user.AllAuthenticated)),
		clusterBinding("system:public-info-viewer", groupSubject(user.AllAuthenticated), groupSubject(user.AllUnauthenticated)),
		clusterBinding("system:monitoring", groupSubject(MonitoringGroup)),
		clusterBinding("system:node-bootstrapper", groupSubject(user.BootstrapGroup)),
		clusterBinding("system:certificates.k8s.io:certificatesigningrequests:nodeclient", groupSubject(user.BootstrapGroup)),
		clusterBinding("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", groupSubject(user.NodesGroup)),
		clusterBinding("system:service-account-issuer-discovery", groupSubject(user.ServiceAccountsGroup)),
		clusterBinding("system:node-proxier", userSubject(KubeProxyUser)),
		clusterBinding("system:kube-dns", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "kube-dns", Namespace: metav1.NamespaceSystem}),
		clusterBinding("system:kube-scheduler", userSubject(KubeSchedulerUser)),
		clusterBinding("system:volume-scheduler", userSubject(KubeSchedulerUser)),
		clusterBinding(KubeControllerManagerUser, userSubject(KubeControllerManagerUser)),
		clusterBinding(SkiffDNSUser, userSubject(SkiffDNSUser)),
		clusterBinding(SkiffIngressUser, userSubject(SkiffIngressUser)),
		clusterBinding(SkiffNodeIngressRole, groupSubject(user.NodesGroup)),
		clusterBinding(SkiffServiceLBUser, userSubject(SkiffServiceLBUser)),
	}
}
