package replicaset

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// set is the common view the controller works on of a ReplicaSet or a
// ReplicationController: the ReplicationController is the older API of the
// same thing and is managed by the same logic.
type set struct {
	metav1.ObjectMeta
	// obj is the original informer object, used to record events.
	obj             runtime.Object
	Replicas        int32
	MinReadySeconds int32
	// Selector selects the pods the set owns; labels.Nothing() when the
	// object's selector is unusable.
	Selector labels.Selector
	Template *corev1.PodTemplateSpec
	Status   appsv1.ReplicaSetStatus
}

// kind adapts one API kind to the controller.
type kind interface {
	// name is the controller's name, also its event source component.
	name() string
	gvk() schema.GroupVersionKind
	informer() cache.SharedIndexInformer
	// get returns the set from the informer cache.
	get(namespace, name string) (*set, error)
	// getLive reads the set from the API server, bypassing the cache.
	getLive(ctx context.Context, namespace, name string) (*set, error)
	list(namespace string) ([]*set, error)
	// convert turns an informer object into a set.
	convert(obj interface{}) (*set, bool)
	updateStatus(ctx context.Context, s *set, status appsv1.ReplicaSetStatus) error
	// siblings returns the UIDs of the sets controlled by the same owner
	// as s, s included; just s's UID when s has no controller.
	siblings(s *set) ([]types.UID, error)
}

// replicaSets adapts apps/v1 ReplicaSets.
type replicaSets struct {
	client kubernetes.Interface
	inf    cache.SharedIndexInformer
	lister appslisters.ReplicaSetLister
}

func newReplicaSets(client kubernetes.Interface, f informers.SharedInformerFactory) *replicaSets {
	i := f.Apps().V1().ReplicaSets()
	return &replicaSets{client: client, inf: i.Informer(), lister: i.Lister()}
}

func (*replicaSets) name() string { return "replicaset-controller" }
func (*replicaSets) gvk() schema.GroupVersionKind {
	return appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
}
func (k *replicaSets) informer() cache.SharedIndexInformer { return k.inf }

func (k *replicaSets) get(namespace, name string) (*set, error) {
	rs, err := k.lister.ReplicaSets(namespace).Get(name)
	if err != nil {
		return nil, err
	}
	return fromReplicaSet(rs), nil
}

func (k *replicaSets) getLive(ctx context.Context, namespace, name string) (*set, error) {
	rs, err := k.client.AppsV1().ReplicaSets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return fromReplicaSet(rs), nil
}

func (k *replicaSets) list(namespace string) ([]*set, error) {
	rss, err := k.lister.ReplicaSets(namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := make([]*set, 0, len(rss))
	for _, rs := range rss {
		out = append(out, fromReplicaSet(rs))
	}
	return out, nil
}

func (*replicaSets) convert(obj interface{}) (*set, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return nil, false
	}
	return fromReplicaSet(rs), true
}

func (k *replicaSets) updateStatus(ctx context.Context, s *set, status appsv1.ReplicaSetStatus) error {
	rs, ok := s.obj.(*appsv1.ReplicaSet)
	if !ok {
		return fmt.Errorf("replicaset %s/%s: unexpected object %T", s.Namespace, s.Name, s.obj)
	}
	rs = rs.DeepCopy()
	rs.Status = status
	_, err := k.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
	return err
}

func (k *replicaSets) siblings(s *set) ([]types.UID, error) {
	ref := metav1.GetControllerOfNoCopy(&s.ObjectMeta)
	if ref == nil {
		return []types.UID{s.UID}, nil
	}
	rss, err := k.lister.ReplicaSets(s.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	uids := []types.UID{s.UID}
	for _, rs := range rss {
		if rs.UID == s.UID {
			continue
		}
		if r := metav1.GetControllerOfNoCopy(rs); r != nil && r.UID == ref.UID {
			uids = append(uids, rs.UID)
		}
	}
	return uids, nil
}

// fromReplicaSet is the set view of rs.
func fromReplicaSet(rs *appsv1.ReplicaSet) *set {
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || rs.Spec.Selector == nil {
		sel = labels.Nothing()
	}
	return &set{
		ObjectMeta:      rs.ObjectMeta,
		obj:             rs,
		Replicas:        replicasOf(rs.Spec.Replicas),
		MinReadySeconds: rs.Spec.MinReadySeconds,
		Selector:        sel,
		Template:        &rs.Spec.Template,
		Status:          rs.Status,
	}
}

// replicationControllers adapts v1 ReplicationControllers.
type replicationControllers struct {
	client kubernetes.Interface
	inf    cache.SharedIndexInformer
	lister corelisters.ReplicationControllerLister
}

func newReplicationControllers(client kubernetes.Interface, f informers.SharedInformerFactory) *replicationControllers {
	i := f.Core().V1().ReplicationControllers()
	return &replicationControllers{client: client, inf: i.Informer(), lister: i.Lister()}
}

func (*replicationControllers) name() string { return "replication-controller" }
func (*replicationControllers) gvk() schema.GroupVersionKind {
	return corev1.SchemeGroupVersion.WithKind("ReplicationController")
}
func (k *replicationControllers) informer() cache.SharedIndexInformer { return k.inf }

func (k *replicationControllers) get(namespace, name string) (*set, error) {
	rc, err := k.lister.ReplicationControllers(namespace).Get(name)
	if err != nil {
		return nil, err
	}
	return fromReplicationController(rc), nil
}

func (k *replicationControllers) getLive(ctx context.Context, namespace, name string) (*set, error) {
	rc, err := k.client.CoreV1().ReplicationControllers(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return fromReplicationController(rc), nil
}

func (k *replicationControllers) list(namespace string) ([]*set, error) {
	rcs, err := k.lister.ReplicationControllers(namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := make([]*set, 0, len(rcs))
	for _, rc := range rcs {
		out = append(out, fromReplicationController(rc))
	}
	return out, nil
}

func (*replicationControllers) convert(obj interface{}) (*set, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	rc, ok := obj.(*corev1.ReplicationController)
	if !ok {
		return nil, false
	}
	return fromReplicationController(rc), true
}

func (k *replicationControllers) updateStatus(ctx context.Context, s *set, status appsv1.ReplicaSetStatus) error {
	rc, ok := s.obj.(*corev1.ReplicationController)
	if !ok {
		return fmt.Errorf("replicationcontroller %s/%s: unexpected object %T", s.Namespace, s.Name, s.obj)
	}
	rc = rc.DeepCopy()
	rc.Status = toReplicationControllerStatus(status)
	_, err := k.client.CoreV1().ReplicationControllers(rc.Namespace).UpdateStatus(ctx, rc, metav1.UpdateOptions{})
	return err
}

func (*replicationControllers) siblings(s *set) ([]types.UID, error) {
	return []types.UID{s.UID}, nil
}

// fromReplicationController is the set view of rc. A nil template (which
// validation forbids) leaves an empty one, from which no pod can be made.
func fromReplicationController(rc *corev1.ReplicationController) *set {
	sel := labels.Nothing()
	if len(rc.Spec.Selector) > 0 {
		sel = labels.SelectorFromSet(rc.Spec.Selector)
	}
	tmpl := rc.Spec.Template
	if tmpl == nil {
		tmpl = &corev1.PodTemplateSpec{}
	}
	st := appsv1.ReplicaSetStatus{
		Replicas:             rc.Status.Replicas,
		FullyLabeledReplicas: rc.Status.FullyLabeledReplicas,
		ReadyReplicas:        rc.Status.ReadyReplicas,
		AvailableReplicas:    rc.Status.AvailableReplicas,
		ObservedGeneration:   rc.Status.ObservedGeneration,
	}
	for _, c := range rc.Status.Conditions {
		st.Conditions = append(st.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return &set{
		ObjectMeta:      rc.ObjectMeta,
		obj:             rc,
		Replicas:        replicasOf(rc.Spec.Replicas),
		MinReadySeconds: rc.Spec.MinReadySeconds,
		Selector:        sel,
		Template:        tmpl,
		Status:          st,
	}
}

// toReplicationControllerStatus converts a computed status back.
func toReplicationControllerStatus(st appsv1.ReplicaSetStatus) corev1.ReplicationControllerStatus {
	out := corev1.ReplicationControllerStatus{
		Replicas:             st.Replicas,
		FullyLabeledReplicas: st.FullyLabeledReplicas,
		ReadyReplicas:        st.ReadyReplicas,
		AvailableReplicas:    st.AvailableReplicas,
		ObservedGeneration:   st.ObservedGeneration,
	}
	for _, c := range st.Conditions {
		out.Conditions = append(out.Conditions, corev1.ReplicationControllerCondition{
			Type: corev1.ReplicationControllerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return out
}

// replicasOf is spec.replicas with the API default of 1.
func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}
