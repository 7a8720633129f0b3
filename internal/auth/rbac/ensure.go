package rbac

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// EnsureDefaults reconciles the default policy, as Kubernetes' API server
// does at start: missing objects are created; existing ones annotated
// rbac.authorization.kubernetes.io/autoupdate=true get the rules,
// aggregation selectors, subjects, labels and annotations they lack (a
// union: nothing an administrator added is removed); a binding whose
// roleRef differs (roleRef is immutable) is deleted and recreated. Objects
// whose annotation is not "true" are left alone. Every object is tried;
// the errors are returned together.
func EnsureDefaults(ctx context.Context, client kubernetes.Interface, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	rbac := client.RbacV1()
	var errs []error
	for _, want := range DefaultClusterRoles() {
		api := rbac.ClusterRoles()
		errs = append(errs, ensure(ctx, log, "clusterrole", want.Name,
			func() (*rbacv1.ClusterRole, error) { return api.Get(ctx, want.Name, metav1.GetOptions{}) },
			func() error { _, err := api.Create(ctx, want, metav1.CreateOptions{}); return err },
			func(cur *rbacv1.ClusterRole) (bool, error) {
				upd, changed := reconcileClusterRole(cur, want)
				if !changed {
					return false, nil
				}
				_, err := api.Update(ctx, upd, metav1.UpdateOptions{})
				return true, err
			}))
	}
	for _, want := range DefaultClusterRoleBindings() {
		api := rbac.ClusterRoleBindings()
		errs = append(errs, ensure(ctx, log, "clusterrolebinding", want.Name,
			func() (*rbacv1.ClusterRoleBinding, error) { return api.Get(ctx, want.Name, metav1.GetOptions{}) },
			func() error { _, err := api.Create(ctx, want, metav1.CreateOptions{}); return err },
			func(cur *rbacv1.ClusterRoleBinding) (bool, error) {
				upd, recreate, changed := reconcileBinding(&cur.ObjectMeta, cur.RoleRef, cur.Subjects, &want.ObjectMeta, want.RoleRef, want.Subjects)
				if !changed {
					return false, nil
				}
				next := cur.DeepCopy()
				next.ObjectMeta, next.RoleRef, next.Subjects = upd.meta, upd.roleRef, upd.subjects
				if recreate {
					return true, recreateBinding(func() error {
						return api.Delete(ctx, cur.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cur.UID}})
					}, func() error { _, err := api.Create(ctx, freshCopy(next), metav1.CreateOptions{}); return err })
				}
				_, err := api.Update(ctx, next, metav1.UpdateOptions{})
				return true, err
			}))
	}
	for _, want := range DefaultRoles() {
		api := rbac.Roles(want.Namespace)
		errs = append(errs, ensure(ctx, log, "role", want.Namespace+"/"+want.Name,
			func() (*rbacv1.Role, error) { return api.Get(ctx, want.Name, metav1.GetOptions{}) },
			func() error { _, err := api.Create(ctx, want, metav1.CreateOptions{}); return err },
			func(cur *rbacv1.Role) (bool, error) {
				upd, changed := reconcileRole(cur, want)
				if !changed {
					return false, nil
				}
				_, err := api.Update(ctx, upd, metav1.UpdateOptions{})
				return true, err
			}))
	}
	for _, want := range DefaultRoleBindings() {
		api := rbac.RoleBindings(want.Namespace)
		errs = append(errs, ensure(ctx, log, "rolebinding", want.Namespace+"/"+want.Name,
			func() (*rbacv1.RoleBinding, error) { return api.Get(ctx, want.Name, metav1.GetOptions{}) },
			func() error { _, err := api.Create(ctx, want, metav1.CreateOptions{}); return err },
			func(cur *rbacv1.RoleBinding) (bool, error) {
				upd, recreate, changed := reconcileBinding(&cur.ObjectMeta, cur.RoleRef, cur.Subjects, &want.ObjectMeta, want.RoleRef, want.Subjects)
				if !changed {
					return false, nil
				}
				next := cur.DeepCopy()
				next.ObjectMeta, next.RoleRef, next.Subjects = upd.meta, upd.roleRef, upd.subjects
				if recreate {
					return true, recreateBinding(func() error {
						return api.Delete(ctx, cur.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cur.UID}})
					}, func() error {
						fresh := next.DeepCopy()
						fresh.ObjectMeta = metav1.ObjectMeta{Name: next.Name, Namespace: next.Namespace, Labels: next.Labels, Annotations: next.Annotations}
						_, err := api.Create(ctx, fresh, metav1.CreateOptions{})
						return err
					})
				}
				_, err := api.Update(ctx, next, metav1.UpdateOptions{})
				return true, err
			}))
	}
	return errors.Join(errs...)
}

// ensure creates the object when get finds none, or calls update with the
// current one, retrying on conflicts with a fresh read.
func ensure[T any](ctx context.Context, log *slog.Logger, kind, name string, get func() (T, error), create func() error, update func(T) (bool, error)) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur, err := get()
		if apierrors.IsNotFound(err) {
			if err := create(); err != nil {
				return err
			}
			log.Info("created default RBAC object", "kind", kind, "name", name)
			return nil
		}
		if err != nil {
			return err
		}
		changed, err := update(cur)
		if err == nil && changed {
			log.Info("reconciled default RBAC object", "kind", kind, "name", name)
		}
		return err
	})
	if apierrors.IsAlreadyExists(err) {
		// Someone else (another server) created it first: fine, the next
		// start reconciles it.
		return nil
	}
	if err != nil {
		return fmt.Errorf("ensuring default %s %s: %w", kind, name, err)
	}
	return nil
}

// recreateBinding replaces a binding whose roleRef must change.
func recreateBinding(del, create func() error) error {
	if err := del(); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return create()
}

func freshCopy(b *rbacv1.ClusterRoleBinding) *rbacv1.ClusterRoleBinding {
	fresh := b.DeepCopy()
	fresh.ObjectMeta = metav1.ObjectMeta{Name: b.Name, Labels: b.Labels, Annotations: b.Annotations}
	return fresh
}

// autoUpdate reports whether an existing object may be reconciled.
func autoUpdate(m *metav1.ObjectMeta) bool {
	return m.Annotations[AutoUpdateAnnotation] == "true"
}

// mergeMeta adds want's labels and annotations that cur lacks; cur's
// values win where both have a key.
func mergeMeta(cur, want *metav1.ObjectMeta) metav1.ObjectMeta {
	out := *cur.DeepCopy()
	for k, v := range want.Labels {
		if _, ok := out.Labels[k]; !ok {
			if out.Labels == nil {
				out.Labels = map[string]string{}
			}
			out.Labels[k] = v
		}
	}
	for k, v := range want.Annotations {
		if _, ok := out.Annotations[k]; !ok {
			if out.Annotations == nil {
				out.Annotations = map[string]string{}
			}
			out.Annotations[k] = v
		}
	}
	return out
}

// addMissingRules appends the wanted rules that cur does not already
// cover.
func addMissingRules(cur, want []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	out := append([]rbacv1.PolicyRule(nil), cur...)
	for _, w := range want {
		if ok, _ := Covers(out, []rbacv1.PolicyRule{w}); !ok {
			out = append(out, *w.DeepCopy())
		}
	}
	return out
}

// reconcileClusterRole returns cur with what want adds, and whether that
// changed anything. Aggregated roles get missing selectors; their rules
// belong to the aggregation controller.
func reconcileClusterRole(cur, want *rbacv1.ClusterRole) (*rbacv1.ClusterRole, bool) {
	if !autoUpdate(&cur.ObjectMeta) {
		return cur, false
	}
	out := cur.DeepCopy()
	out.ObjectMeta = mergeMeta(&cur.ObjectMeta, &want.ObjectMeta)
	if want.AggregationRule != nil {
		if out.AggregationRule == nil {
			out.AggregationRule = &rbacv1.AggregationRule{}
		}
		for _, sel := range want.AggregationRule.ClusterRoleSelectors {
			found := false
			for _, have := range out.AggregationRule.ClusterRoleSelectors {
				if apiequality.Semantic.DeepEqual(sel, have) {
					found = true
					break
				}
			}
			if !found {
				out.AggregationRule.ClusterRoleSelectors = append(out.AggregationRule.ClusterRoleSelectors, *sel.DeepCopy())
			}
		}
	} else {
		out.Rules = addMissingRules(cur.Rules, want.Rules)
	}
	return out, !apiequality.Semantic.DeepEqual(out, cur)
}

// reconcileRole is reconcileClusterRole for namespaced roles.
func reconcileRole(cur, want *rbacv1.Role) (*rbacv1.Role, bool) {
	if !autoUpdate(&cur.ObjectMeta) {
		return cur, false
	}
	out := cur.DeepCopy()
	out.ObjectMeta = mergeMeta(&cur.ObjectMeta, &want.ObjectMeta)
	out.Rules = addMissingRules(cur.Rules, want.Rules)
	return out, !apiequality.Semantic.DeepEqual(out, cur)
}

type reconciledBinding struct {
	meta     metav1.ObjectMeta
	roleRef  rbacv1.RoleRef
	subjects []rbacv1.Subject
}

// reconcileBinding adds want's subjects, labels and annotations to a
// binding; recreate is true when the roleRef must change, which only a
// delete and create can do.
func reconcileBinding(curMeta *metav1.ObjectMeta, curRef rbacv1.RoleRef, curSubjects []rbacv1.Subject,
	wantMeta *metav1.ObjectMeta, wantRef rbacv1.RoleRef, wantSubjects []rbacv1.Subject) (out reconciledBinding, recreate, changed bool) {
	if !autoUpdate(curMeta) {
		return reconciledBinding{}, false, false
	}
	out.meta = mergeMeta(curMeta, wantMeta)
	out.roleRef = curRef
	if curRef != wantRef {
		out.roleRef, recreate = wantRef, true
	}
	out.subjects = append([]rbacv1.Subject(nil), curSubjects...)
	for _, s := range wantSubjects {
		if !hasSubject(out.subjects, s) {
			out.subjects = append(out.subjects, s)
		}
	}
	changed = recreate || len(out.subjects) != len(curSubjects) || !apiequality.Semantic.DeepEqual(out.meta, *curMeta)
	return out, recreate, changed
}

// hasSubject compares subjects as RBAC matches them (the API group of a
// User or Group subject defaults to rbac.authorization.k8s.io).
func hasSubject(list []rbacv1.Subject, s rbacv1.Subject) bool {
	for _, have := range list {
		if have.Kind == s.Kind && have.Name == s.Name && have.Namespace == s.Namespace {
			return true
		}
	}
	return false
}
