package core

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// Length limits of events that carry an eventTime (the events.k8s.io
// style of recording).
const (
	eventMaxInstance = 128
	eventMaxAction   = 128
	eventMaxReason   = 128
	eventMaxNote     = 1024
)

// eventKindScopes() records, for the kinds Skiff serves, whether they are
// namespaced; keyed by "group/Kind" ("" group for core).
func eventKindScopes() map[string]bool {
	return map[string]bool{
		"/Pod": true, "/Service": true, "/Endpoints": true, "/ConfigMap": true, "/Secret": true,
		"/ServiceAccount": true, "/PersistentVolumeClaim": true, "/ReplicationController": true,
		"/PodTemplate": true, "/ResourceQuota": true, "/LimitRange": true, "/Event": true,
		"/Node": false, "/Namespace": false, "/PersistentVolume": false,
		"apps/Deployment": true, "apps/ReplicaSet": true, "apps/StatefulSet": true, "apps/DaemonSet": true,
		"batch/Job": true, "batch/CronJob": true,
	}
}

// Events returns the core/v1 events resource. Core events are only checked
// loosely, as in Kubernetes, for compatibility with old clients.
func Events() *registry.Resource {
	return &registry.Resource{
		Version:      "v1",
		Resource:     "events",
		Kind:         "Event",
		Singular:     "event",
		ShortNames:   []string{"ev"},
		Namespaced:   true,
		ValidateName: commonPathSegmentName,
		New:          func() runtime.Object { return &corev1.Event{} },
		NewList:      func() runtime.Object { return &corev1.EventList{} },
		Strategy:     eventStrategy{},
	}
}

// eventStrategy implements core events' behaviour.
type eventStrategy struct {
	registry.DefaultStrategy
}

// Validate applies Kubernetes' legacy event checks.
func (eventStrategy) Validate(obj runtime.Object) field.ErrorList {
	return eventValidate(obj.(*corev1.Event))
}

// ValidateUpdate checks the updated event like a new one; core/v1 events
// have no immutable fields.
func (eventStrategy) ValidateUpdate(obj, _ runtime.Object) field.ErrorList {
	return eventValidate(obj.(*corev1.Event))
}

func eventValidate(ev *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	ns := field.NewPath("involvedObject", "namespace")
	mismatch := field.Invalid(ns, ev.InvolvedObject.Namespace, "does not match event.namespace")
	if ev.EventTime.IsZero() {
		// Old-style events: the namespaces must agree, with "default"
		// tolerated for cluster-scoped objects.
		if ev.InvolvedObject.Namespace == "" {
			if ev.Namespace != metav1.NamespaceNone && ev.Namespace != metav1.NamespaceDefault {
				errs = append(errs, mismatch)
			}
		} else if ev.Namespace != ev.InvolvedObject.Namespace {
			errs = append(errs, mismatch)
		}
	} else {
		errs = append(errs, eventValidateNewStyle(ev, mismatch)...)
	}
	group := strings.SplitN(ev.InvolvedObject.APIVersion, "/", 2)
	g := ""
	if len(group) == 2 {
		g = group[0]
	}
	if namespaced, known := eventKindScopes()[g+"/"+ev.InvolvedObject.Kind]; known {
		if namespaced && ev.InvolvedObject.Namespace == "" {
			errs = append(errs, field.Required(ns, fmt.Sprintf("required for kind %s", ev.InvolvedObject.Kind)))
		}
		if !namespaced && ev.InvolvedObject.Namespace != "" {
			errs = append(errs, field.Invalid(ns, ev.InvolvedObject.Namespace, fmt.Sprintf("not allowed for kind %s", ev.InvolvedObject.Kind)))
		}
	}
	errs = append(errs, commonDNS1123Subdomain(ev.Namespace, field.NewPath("namespace"))...)
	return errs
}

// eventValidateNewStyle checks events recorded with an eventTime.
func eventValidateNewStyle(ev *corev1.Event, mismatch *field.Error) field.ErrorList {
	var errs field.ErrorList
	if ev.InvolvedObject.Namespace == "" && ev.Namespace != metav1.NamespaceDefault && ev.Namespace != metav1.NamespaceSystem {
		errs = append(errs, mismatch)
	}
	// The core/v1 name of reportingController.
	rc := field.NewPath("reportingComponent")
	if ev.ReportingController == "" {
		errs = append(errs, field.Required(rc, ""))
	}
	errs = append(errs, commonQualifiedName(ev.ReportingController, rc)...)
	if ev.ReportingInstance == "" {
		errs = append(errs, field.Required(field.NewPath("reportingInstance"), ""))
	}
	if len(ev.ReportingInstance) > eventMaxInstance {
		errs = append(errs, field.Invalid(field.NewPath("reportingInstance"), "", fmt.Sprintf("can have at most %v characters", eventMaxInstance)))
	}
	if ev.Action == "" {
		errs = append(errs, field.Required(field.NewPath("action"), ""))
	}
	if len(ev.Action) > eventMaxAction {
		errs = append(errs, field.Invalid(field.NewPath("action"), "", fmt.Sprintf("can have at most %v characters", eventMaxAction)))
	}
	if ev.Reason == "" {
		errs = append(errs, field.Required(field.NewPath("reason"), ""))
	}
	if len(ev.Reason) > eventMaxReason {
		errs = append(errs, field.Invalid(field.NewPath("reason"), "", fmt.Sprintf("can have at most %v characters", eventMaxReason)))
	}
	if len(ev.Message) > eventMaxNote {
		errs = append(errs, field.Invalid(field.NewPath("message"), "", fmt.Sprintf("can have at most %v characters", eventMaxNote)))
	}
	return errs
}

// SelectableFields lists the fields `kubectl get events --field-selector`
// supports.
func (eventStrategy) SelectableFields(obj runtime.Object) fields.Set {
	ev := obj.(*corev1.Event)
	o := ev.InvolvedObject
	return fields.Set{
		"involvedObject.kind":            o.Kind,
		"involvedObject.namespace":       o.Namespace,
		"involvedObject.name":            o.Name,
		"involvedObject.uid":             string(o.UID),
		"involvedObject.apiVersion":      o.APIVersion,
		"involvedObject.resourceVersion": o.ResourceVersion,
		"involvedObject.fieldPath":       o.FieldPath,
		"reason":                         ev.Reason,
		"reportingComponent":             ev.ReportingController,
		"source":                         ev.Source.Component,
		"type":                           ev.Type,
	}
}

// TableColumns are kubectl's event columns.
func (eventStrategy) TableColumns() []metav1.TableColumnDefinition {
	d := corev1.Event{}.SwaggerDoc()
	name := commonNameColumn()
	name.Priority = 1
	return []metav1.TableColumnDefinition{
		commonColumn("Last Seen", "string", d["lastTimestamp"]),
		commonColumn("Type", "string", d["type"]),
		commonColumn("Reason", "string", d["reason"]),
		commonColumn("Object", "string", d["involvedObject"]),
		commonWideColumn("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]),
		commonWideColumn("Source", "string", d["source"]),
		commonColumn("Message", "string", d["message"]),
		commonWideColumn("First Seen", "string", d["firstTimestamp"]),
		commonWideColumn("Count", "string", d["count"]),
		name,
	}
}

// TableRow renders one event.
func (eventStrategy) TableRow(obj runtime.Object) []interface{} {
	ev := obj.(*corev1.Event)
	first := commonAge(ev.FirstTimestamp)
	if ev.FirstTimestamp.IsZero() {
		first = commonMicroAge(ev.EventTime)
	}
	last := commonAge(ev.LastTimestamp)
	if ev.LastTimestamp.IsZero() {
		last = first
	}
	count := ev.Count
	if ev.Series != nil {
		last = commonMicroAge(ev.Series.LastObservedTime)
		count = ev.Series.Count
	} else if count == 0 {
		// Events recorded through events.k8s.io carry no count.
		count = 1
	}
	target := strings.ToLower(ev.InvolvedObject.Kind)
	if ev.InvolvedObject.Name != "" {
		target += "/" + ev.InvolvedObject.Name
	}
	return []interface{}{
		last, ev.Type, ev.Reason, target, ev.InvolvedObject.FieldPath,
		eventSource(ev), strings.TrimSpace(ev.Message), first, int64(count), ev.Name,
	}
}

// eventSource renders "component, host", falling back to the reporting
// controller and instance.
func eventSource(ev *corev1.Event) string {
	component, host := ev.Source.Component, ev.Source.Host
	if component == "" {
		component = ev.ReportingController
	}
	if host == "" {
		host = ev.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}
