package admission

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/skiff-io/skiff/internal/apiserver"
	"github.com/skiff-io/skiff/internal/quota"
	"github.com/skiff-io/skiff/internal/storage"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ResourceQuota refuses new objects that would take a namespace over one of
// its quotas, with Kubernetes' "exceeded quota" message, and charges what
// it admits to the quotas' status at once, so that concurrent creates
// cannot both slip under a limit. A write that then fails is refunded; the
// quota controller recomputes usage from scratch in any case.
type ResourceQuota struct {
	Quotas *storage.Resource

	mu      sync.Mutex
	charged map[*apiserver.Attributes][]charge
}

// charge is what one admitted write added to one quota.
type charge struct {
	namespace, name string
	delta           corev1.ResourceList
}

// errExceeded carries an exceeded-quota refusal out of a storage update.
var errExceeded = errors.New("exceeded quota")

// Admit implements apiserver.Admission.
func (q *ResourceQuota) Admit(a *apiserver.Attributes) error {
	if a.Verb != "create" || a.Subresource != "" || !a.Resource.Namespaced || a.DryRun {
		return nil
	}
	gr := schema.GroupResource{Group: a.Resource.Group, Resource: a.Resource.Resource}
	res, err := q.Quotas.List(context.Background(), storage.ListOptions{Namespace: a.Namespace, ResourceVersion: "0"})
	if err != nil || len(res.Items) == 0 {
		return err
	}
	usage := quota.Usage(gr, a.Object)
	var charges []charge
	refuse := func(err error) error {
		q.refund(charges)
		return err
	}
	for _, item := range res.Items {
		rq := item.(*corev1.ResourceQuota)
		if !quota.Matches(rq, a.Object) && (len(rq.Spec.Scopes) > 0 || rq.Spec.ScopeSelector != nil) {
			continue
		}
		if pod, ok := a.Object.(*corev1.Pod); ok {
			if missing := quota.MissingRequirements(rq.Spec.Hard, pod); len(missing) > 0 {
				return refuse(forbidden(gr, a.Name, fmt.Sprintf("failed quota: %s: must specify %s", rq.Name, strings.Join(missing, "; "))))
			}
		}
		delta := corev1.ResourceList{}
		for name, v := range usage {
			if _, ok := rq.Spec.Hard[name]; ok {
				delta[name] = v
			}
		}
		if len(delta) == 0 {
			continue
		}
		var refusal error
		_, err := q.Quotas.Update(context.Background(), a.Namespace, rq.Name, func(cur runtime.Object) (runtime.Object, error) {
			c := cur.(*corev1.ResourceQuota)
			if over := quota.Exceeded(c.Spec.Hard, c.Status.Used, delta); len(over) > 0 {
				refusal = forbidden(gr, a.Name, fmt.Sprintf("exceeded quota: %s, requested: %s, used: %s, limited: %s",
					c.Name, quota.Format(delta, over), quota.Format(c.Status.Used, over), quota.Format(c.Spec.Hard, over)))
				return nil, errExceeded
			}
			c.Status.Hard = c.Spec.Hard
			c.Status.Used = quota.Add(c.Status.Used, delta)
			return c, nil
		})
		if refusal != nil {
			return refuse(refusal)
		}
		if err != nil {
			return refuse(err)
		}
		charges = append(charges, charge{a.Namespace, rq.Name, delta})
	}
	if len(charges) > 0 {
		q.mu.Lock()
		if q.charged == nil {
			q.charged = map[*apiserver.Attributes][]charge{}
		}
		q.charged[a] = charges
		q.mu.Unlock()
	}
	return nil
}

func forbidden(gr schema.GroupResource, name, msg string) error {
	return apierrors.NewForbidden(gr, name, errors.New(msg))
}

// Done implements apiserver.Admission: a write that did not happen is
// refunded.
func (q *ResourceQuota) Done(a *apiserver.Attributes, stored bool) {
	q.mu.Lock()
	charges := q.charged[a]
	delete(q.charged, a)
	q.mu.Unlock()
	if !stored {
		q.refund(charges)
	}
}

func (q *ResourceQuota) refund(charges []charge) {
	for _, c := range charges {
		_, _ = q.Quotas.Update(context.Background(), c.namespace, c.name, func(cur runtime.Object) (runtime.Object, error) {
			rq := cur.(*corev1.ResourceQuota)
			used := rq.Status.Used.DeepCopy()
			for name, v := range c.delta {
				if u, ok := used[name]; ok {
					u.Sub(v)
					if u.Sign() < 0 {
						u.Set(0)
					}
					used[name] = u
				}
			}
			rq.Status.Used = used
			return rq, nil
		})
	}
}
