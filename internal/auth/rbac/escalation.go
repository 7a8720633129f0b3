package rbac

import (
	"context"
	"errors"
	"fmt"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fullAuthority is what cluster-admin holds; setting an aggregationRule,
// which can gather any permission, requires it.
var fullAuthority = []rbacv1.PolicyRule{
	{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
	{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
}

// EscalationCheck is the admission plug-in that stops users from granting
// permissions they do not hold, as Kubernetes' RBAC storage does.
//
// Creating or updating a Role or ClusterRole is allowed when the user is
// in system:masters (or there is no user: an in-process write), may
// "escalate" that role, or already holds every rule of it (RulesFor in the
// role's namespace, which includes cluster-wide rules). Setting or keeping
// a ClusterRole's aggregationRule additionally requires cluster-admin's
// rules, since the aggregated role can gather anything.
//
// Creating or updating a RoleBinding or ClusterRoleBinding is allowed when
// the user is in system:masters, may "bind" the referenced role, or holds
// every rule of that role (its stored rules; for an aggregated ClusterRole
// these are the rules the aggregation controller wrote). A binding to a
// missing role is refused with NotFound unless the user may bind it.
//
// Updates that only change owner references or finalizers (the garbage
// collector's work) are not checked.
type EscalationCheck struct {
	// Authorizer answers the "escalate" and "bind" checks; it should be
	// the API server's full authorizer chain.
	Authorizer authorizer.Authorizer
	// Rules gives the user's own rules (normally the RBAC Authorizer).
	Rules authorizer.RuleResolver
	// Source reads the roles that bindings refer to.
	Source Source
}

var _ apiserver.Admission = (*EscalationCheck)(nil)

// Admit implements apiserver.Admission.
func (e *EscalationCheck) Admit(a *apiserver.Attributes) error {
	if a.Resource == nil || a.Resource.Group != rbacv1.GroupName || a.Subresource != "" {
		return nil
	}
	if a.Verb != "create" && a.Verb != "update" {
		return nil
	}
	if a.User == nil || a.User.InGroup(user.SystemPrivilegedGroup) {
		return nil
	}
	if a.Verb == "update" && onlyGCFieldsChanged(a.Object, a.Old) {
		return nil
	}
	ctx := context.Background()
	gr := schema.GroupResource{Group: rbacv1.GroupName, Resource: a.Resource.Resource}
	switch obj := a.Object.(type) {
	case *rbacv1.Role:
		return e.checkRole(ctx, a, gr, obj.Rules, false)
	case *rbacv1.ClusterRole:
		aggregated := hasAggregationRule(obj)
		if old, ok := a.Old.(*rbacv1.ClusterRole); ok && hasAggregationRule(old) {
			aggregated = true
		}
		return e.checkRole(ctx, a, gr, obj.Rules, aggregated)
	case *rbacv1.RoleBinding:
		return e.checkBinding(ctx, a, gr, obj.RoleRef, namespaceOf(a, obj))
	case *rbacv1.ClusterRoleBinding:
		return e.checkBinding(ctx, a, gr, obj.RoleRef, "")
	}
	return nil
}

// Done implements apiserver.Admission.
func (e *EscalationCheck) Done(*apiserver.Attributes, bool) {}

func (e *EscalationCheck) checkRole(ctx context.Context, a *apiserver.Attributes, gr schema.GroupResource, rules []rbacv1.PolicyRule, aggregated bool) error {
	// As in Kubernetes the escalate check uses the name from the request
	// URL, which a create does not have.
	name := ""
	if a.Verb == "update" {
		name = nameOf(a)
	}
	attrs := authorizer.Attributes{User: a.User, Verb: "escalate", ResourceRequest: true, APIGroup: rbacv1.GroupName, APIVersion: "*",
		Resource: gr.Resource, Namespace: a.Namespace, Name: name}
	if e.allowed(ctx, attrs) {
		return nil
	}
	if err := e.confirmNoEscalation(ctx, a.User, a.Namespace, rules); err != nil {
		return apierrors.NewForbidden(gr, nameOf(a), err)
	}
	if aggregated {
		if e.confirmNoEscalation(ctx, a.User, a.Namespace, fullAuthority) != nil {
			return apierrors.NewForbidden(gr, nameOf(a), errors.New("must have cluster-admin privileges to use the aggregationRule"))
		}
	}
	return nil
}

func (e *EscalationCheck) checkBinding(ctx context.Context, a *apiserver.Attributes, gr schema.GroupResource, ref rbacv1.RoleRef, namespace string) error {
	if e.bindAuthorized(ctx, a.User, ref, namespace) {
		return nil
	}
	rules, err := RoleRefRules(e.Source, ref, namespace)
	if err != nil {
		if apierrors.IsNotFound(err) || apierrors.ReasonForError(err) != "" {
			return err
		}
		return apierrors.NewInternalError(fmt.Errorf("reading the role %s %q: %w", ref.Kind, ref.Name, err))
	}
	if err := e.confirmNoEscalation(ctx, a.User, namespace, rules); err != nil {
		return apierrors.NewForbidden(gr, nameOf(a), err)
	}
	return nil
}

// bindAuthorized asks whether u may "bind" the role ref names, in the
// binding's namespace ("" for a ClusterRoleBinding), so that delegation can
// be limited to particular roles and namespaces.
func (e *EscalationCheck) bindAuthorized(ctx context.Context, u *user.Info, ref rbacv1.RoleRef, namespace string) bool {
	attrs := authorizer.Attributes{User: u, Verb: "bind", ResourceRequest: true, APIGroup: ref.APIGroup, Namespace: namespace, Name: ref.Name}
	switch ref.Kind {
	case "Role":
		attrs.Resource = "roles"
	case "ClusterRole":
		attrs.Resource = "clusterroles"
	default:
		return false
	}
	return e.allowed(ctx, attrs)
}

func (e *EscalationCheck) allowed(ctx context.Context, attrs authorizer.Attributes) bool {
	if e.Authorizer == nil {
		return false
	}
	d, _, err := e.Authorizer.Authorize(ctx, attrs)
	return err == nil && d == authorizer.Allow
}

// confirmNoEscalation returns an error in Kubernetes' wording when u's
// rules in namespace do not cover rules.
func (e *EscalationCheck) confirmNoEscalation(ctx context.Context, u *user.Info, namespace string, rules []rbacv1.PolicyRule) error {
	var owner []rbacv1.PolicyRule
	var resolveErr error
	if e.Rules != nil {
		owner, _, resolveErr = e.Rules.RulesFor(ctx, u, namespace)
	}
	ok, missing := Covers(owner, rules)
	if ok {
		return nil
	}
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s", u.Name, u.Groups, describeMissing(missing))
	if resolveErr != nil {
		msg += fmt.Sprintf("; resolution errors: [%v]", resolveErr)
	}
	return errors.New(msg)
}

func hasAggregationRule(r *rbacv1.ClusterRole) bool {
	return r.AggregationRule != nil && len(r.AggregationRule.ClusterRoleSelectors) > 0
}

func nameOf(a *apiserver.Attributes) string {
	if a.Name != "" {
		return a.Name
	}
	if m, err := meta.Accessor(a.Object); err == nil {
		return m.GetName()
	}
	return ""
}

func namespaceOf(a *apiserver.Attributes, b *rbacv1.RoleBinding) string {
	if a.Namespace != "" {
		return a.Namespace
	}
	return b.Namespace
}

// onlyGCFieldsChanged reports whether obj differs from old only in what
// the garbage collector and deletion change (owner references, finalizers,
// deletion fields), ignoring the bookkeeping the server itself sets.
func onlyGCFieldsChanged(obj, old runtime.Object) bool {
	if obj == nil || old == nil {
		return false
	}
	copied := obj.DeepCopyObject()
	cm, err := meta.Accessor(copied)
	if err != nil {
		return false
	}
	om, err := meta.Accessor(old)
	if err != nil {
		return false
	}
	cm.SetOwnerReferences(om.GetOwnerReferences())
	cm.SetFinalizers(om.GetFinalizers())
	cm.SetDeletionTimestamp(om.GetDeletionTimestamp())
	cm.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
	cm.SetResourceVersion(om.GetResourceVersion())
	cm.SetManagedFields(om.GetManagedFields())
	cm.SetGeneration(om.GetGeneration())
	copied.GetObjectKind().SetGroupVersionKind(old.GetObjectKind().GroupVersionKind())
	return apiequality.Semantic.DeepEqual(copied, old)
}
