package events

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ToCore returns the core/v1 form of an events.k8s.io/v1 Event, the form
// events are stored in. Every field has a core counterpart (regarding →
// involvedObject, note → message, deprecatedSource → source,
// deprecated{First,Last}Timestamp → {first,last}Timestamp, deprecatedCount →
// count; reportingController keeps its name but is serialised as
// reportingComponent), so the conversion is lossless. in is not modified.
func ToCore(in *eventsv1.Event) *corev1.Event {
	c := in.DeepCopy()
	out := &corev1.Event{
		TypeMeta:            coreTypeMeta(),
		ObjectMeta:          c.ObjectMeta,
		InvolvedObject:      c.Regarding,
		Reason:              c.Reason,
		Message:             c.Note,
		Source:              c.DeprecatedSource,
		FirstTimestamp:      c.DeprecatedFirstTimestamp,
		LastTimestamp:       c.DeprecatedLastTimestamp,
		Count:               c.DeprecatedCount,
		Type:                c.Type,
		EventTime:           c.EventTime,
		Action:              c.Action,
		Related:             c.Related,
		ReportingController: c.ReportingController,
		ReportingInstance:   c.ReportingInstance,
	}
	if c.Series != nil {
		out.Series = &corev1.EventSeries{Count: c.Series.Count, LastObservedTime: c.Series.LastObservedTime}
	}
	return out
}

// FromCore returns the events.k8s.io/v1 form of a stored core/v1 Event; it
// is the inverse of ToCore. in is not modified.
func FromCore(in *corev1.Event) *eventsv1.Event {
	c := in.DeepCopy()
	out := &eventsv1.Event{
		TypeMeta:                 eventsTypeMeta(),
		ObjectMeta:               c.ObjectMeta,
		EventTime:                c.EventTime,
		ReportingController:      c.ReportingController,
		ReportingInstance:        c.ReportingInstance,
		Action:                   c.Action,
		Reason:                   c.Reason,
		Regarding:                c.InvolvedObject,
		Related:                  c.Related,
		Note:                     c.Message,
		Type:                     c.Type,
		DeprecatedSource:         c.Source,
		DeprecatedFirstTimestamp: c.FirstTimestamp,
		DeprecatedLastTimestamp:  c.LastTimestamp,
		DeprecatedCount:          c.Count,
	}
	if c.Series != nil {
		out.Series = &eventsv1.EventSeries{Count: c.Series.Count, LastObservedTime: c.Series.LastObservedTime}
	}
	return out
}

// toStorage implements registry.Converter.ToStorage for single events and
// lists.
func toStorage(obj runtime.Object) (runtime.Object, error) {
	switch o := obj.(type) {
	case *eventsv1.Event:
		return ToCore(o), nil
	case *eventsv1.EventList:
		out := &corev1.EventList{TypeMeta: coreListTypeMeta(), ListMeta: *o.ListMeta.DeepCopy()}
		for i := range o.Items {
			out.Items = append(out.Items, *ToCore(&o.Items[i]))
		}
		return out, nil
	case *corev1.Event, *corev1.EventList:
		return obj.DeepCopyObject(), nil
	default:
		return nil, fmt.Errorf("converting %T to core/v1 Event: unsupported type", obj)
	}
}

// fromStorage implements registry.Converter.FromStorage for single events
// and lists.
func fromStorage(obj runtime.Object) (runtime.Object, error) {
	switch o := obj.(type) {
	case *corev1.Event:
		return FromCore(o), nil
	case *corev1.EventList:
		out := &eventsv1.EventList{TypeMeta: eventsListTypeMeta(), ListMeta: *o.ListMeta.DeepCopy()}
		for i := range o.Items {
			out.Items = append(out.Items, *FromCore(&o.Items[i]))
		}
		return out, nil
	case *eventsv1.Event, *eventsv1.EventList:
		return obj.DeepCopyObject(), nil
	default:
		return nil, fmt.Errorf("converting %T to events.k8s.io/v1 Event: unsupported type", obj)
	}
}

// asCore gives the core form of an event of either version, so that the
// strategy can apply Kubernetes' rules, which are written against it.
func asCore(obj runtime.Object) (*corev1.Event, bool) {
	switch o := obj.(type) {
	case *eventsv1.Event:
		return ToCore(o), true
	case *corev1.Event:
		return o, true
	default:
		return nil, false
	}
}
