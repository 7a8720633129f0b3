// Package all lists every resource the API server serves.
package all

import (
	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/apps"
	"github.com/skiff-io/skiff/internal/registry/authentication"
	"github.com/skiff-io/skiff/internal/registry/authorization"
	"github.com/skiff-io/skiff/internal/registry/autoscaling"
	"github.com/skiff-io/skiff/internal/registry/batch"
	"github.com/skiff-io/skiff/internal/registry/certificates"
	"github.com/skiff-io/skiff/internal/registry/coordination"
	"github.com/skiff-io/skiff/internal/registry/core"
	"github.com/skiff-io/skiff/internal/registry/discovery"
	"github.com/skiff-io/skiff/internal/registry/events"
	"github.com/skiff-io/skiff/internal/registry/networking"
	"github.com/skiff-io/skiff/internal/registry/policy"
	"github.com/skiff-io/skiff/internal/registry/rbac"
	"github.com/skiff-io/skiff/internal/registry/scheduling"
	"github.com/skiff-io/skiff/internal/registry/storage"
)

// Resources returns a fresh description of every served resource, grouped
// by API group in discovery order.
func Resources() []*registry.Resource {
	return []*registry.Resource{
		// core/v1
		core.Pods(), core.PodTemplates(), core.ReplicationControllers(), core.Services(),
		core.Endpoints(), core.Namespaces(), core.Nodes(), core.ConfigMaps(), core.Secrets(),
		core.ServiceAccounts(), core.Events(), core.PersistentVolumes(), core.PersistentVolumeClaims(),
		core.ResourceQuotas(), core.LimitRanges(),
		// apps/v1
		apps.Deployments(), apps.ReplicaSets(), apps.DaemonSets(), apps.StatefulSets(), apps.ControllerRevisions(),
		// events.k8s.io/v1
		events.Events(),
		// autoscaling/v2 owns the storage autoscaling/v1 shares
		autoscaling.HorizontalPodAutoscalersV2(), autoscaling.HorizontalPodAutoscalersV1(),
		// batch/v1
		batch.Jobs(), batch.CronJobs(),
		// networking.k8s.io/v1
		networking.Ingresses(), networking.IngressClasses(), networking.NetworkPolicies(),
		// certificates.k8s.io/v1
		certificates.CertificateSigningRequests(),
		// policy/v1
		policy.PodDisruptionBudgets(),
		// authentication.k8s.io/v1 and authorization.k8s.io/v1 reviews
		authentication.TokenReviews(), authentication.SelfSubjectReviews(),
		authorization.SubjectAccessReviews(), authorization.SelfSubjectAccessReviews(),
		authorization.LocalSubjectAccessReviews(), authorization.SelfSubjectRulesReviews(),
		// rbac.authorization.k8s.io/v1
		rbac.Roles(), rbac.RoleBindings(), rbac.ClusterRoles(), rbac.ClusterRoleBindings(),
		// storage.k8s.io/v1
		storage.StorageClasses(), storage.CSIDrivers(), storage.CSINodes(), storage.VolumeAttachments(),
		// scheduling.k8s.io/v1
		scheduling.PriorityClasses(),
		// coordination.k8s.io/v1
		coordination.Leases(),
		// discovery.k8s.io/v1
		discovery.EndpointSlices(),
	}
}
