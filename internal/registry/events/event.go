package events

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// Length limits of event fields.
const (
	maxReportingInstance = 128
	maxAction            = 128
	maxReason            = 128
	maxNote              = 1024
)

// Events returns the namespaced events.k8s.io/v1 Event resource. It shares
// storage with core/v1 events: Convert translates between the two forms.
// Events created through this API get Kubernetes' strict checks (eventTime,
// reportingController, reportingInstance, action and reason required, type
// Normal or Warning, deprecated fields unset).
func Events() *registry.Resource {
	return &registry.Resource{
		Group:           groupName,
		Version:         "v1",
		Resource:        "events",
		Kind:            "Event",
		Singular:        "event",
		ShortNames:      []string{"ev"},
		Namespaced:      true,
		New:             func() runtime.Object { return &eventsv1.Event{} },
		NewList:         func() runtime.Object { return &eventsv1.EventList{} },
		Strategy:        eventStrategy{now: time.Now},
		StorageResource: &schema.GroupResource{Group: "", Resource: "events"},
		Convert:         &registry.Converter{ToStorage: toStorage, FromStorage: fromStorage},
	}
}

// eventStrategy accepts events of either version (the served
// events.k8s.io/v1 type or the stored core/v1 type) and applies Kubernetes'
// rules to their core form; error paths therefore name core fields
// ("involvedObject.namespace", "message"), as Kubernetes' do.
type eventStrategy struct {
	registry.DefaultStrategy
	now clock
}

var (
	_ registry.TableConvertor  = eventStrategy{}
	_ registry.FieldSelectable = eventStrategy{}
)

func (eventStrategy) Validate(obj runtime.Object) field.ErrorList {
	ev, ok := asCore(obj)
	if !ok {
		return wrongType(obj)
	}
	errs := validateLegacy(ev)
	errs = append(errs, validateSeries(ev)...)
	if ev.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if ev.Type != corev1.EventTypeNormal && ev.Type != corev1.EventTypeWarning {
		errs = append(errs, field.Invalid(field.NewPath("type"), "", fmt.Sprintf("has invalid value: %v", ev.Type)))
	}
	// The deprecated fields exist for old readers; new writers must
	// describe repetition with series instead.
	if !ev.FirstTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("firstTimestamp"), "", "needs to be unset"))
	}
	if !ev.LastTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("lastTimestamp"), "", "needs to be unset"))
	}
	if ev.Count != 0 {
		errs = append(errs, field.Invalid(field.NewPath("count"), "", "needs to be unset"))
	}
	if ev.Source.Component != "" || ev.Source.Host != "" {
		errs = append(errs, field.Invalid(field.NewPath("source"), "", "needs to be unset"))
	}
	return errs
}

func (eventStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	ev, ok1 := asCore(obj)
	prev, ok2 := asCore(old)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	errs := validateLegacy(ev)
	if !reflect.DeepEqual(ev.Series, prev.Series) {
		errs = append(errs, validateSeries(ev)...)
	}
	immutable := []struct {
		path     string
		cur, old interface{}
	}{
		{"involvedObject", ev.InvolvedObject, prev.InvolvedObject},
		{"reason", ev.Reason, prev.Reason},
		{"message", ev.Message, prev.Message},
		{"source", ev.Source, prev.Source},
		{"firstTimestamp", ev.FirstTimestamp, prev.FirstTimestamp},
		{"lastTimestamp", ev.LastTimestamp, prev.LastTimestamp},
		{"count", ev.Count, prev.Count},
		{"type", ev.Type, prev.Type},
		{"action", ev.Action, prev.Action},
		{"related", ev.Related, prev.Related},
		{"reportingController", ev.ReportingController, prev.ReportingController},
		{"reportingInstance", ev.ReportingInstance, prev.ReportingInstance},
	}
	for _, f := range immutable {
		errs = append(errs, apivalidation.ValidateImmutableField(f.cur, f.old, field.NewPath(f.path))...)
	}
	// Clients serialise eventTime with microsecond precision; differences
	// below that are not changes.
	if !ev.EventTime.Time.Truncate(time.Microsecond).Equal(prev.EventTime.Time.Truncate(time.Microsecond)) {
		errs = append(errs, field.Invalid(field.NewPath("eventTime"), ev.EventTime, "field is immutable"))
	}
	return errs
}

// validateLegacy holds the checks every event passes whichever API wrote
// it. Events without eventTime predate the new API and are only checked for
// namespace consistency.
func validateLegacy(ev *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	nsPath := field.NewPath("involvedObject", "namespace")
	if ev.EventTime.IsZero() {
		objNS := ev.InvolvedObject.Namespace
		if (objNS == "" && ev.Namespace != metav1.NamespaceNone && ev.Namespace != metav1.NamespaceDefault) ||
			(objNS != "" && ev.Namespace != objNS) {
			errs = append(errs, field.Invalid(nsPath, objNS, "does not match event.namespace"))
		}
	} else {
		if ev.InvolvedObject.Namespace == "" && ev.Namespace != metav1.NamespaceDefault && ev.Namespace != metav1.NamespaceSystem {
			errs = append(errs, field.Invalid(nsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
		}
		rc := field.NewPath("reportingController")
		if ev.ReportingController == "" {
			errs = append(errs, field.Required(rc, ""))
		}
		for _, msg := range validation.IsQualifiedName(ev.ReportingController) {
			errs = append(errs, field.Invalid(rc, ev.ReportingController, msg))
		}
		errs = append(errs, requiredBounded(ev.ReportingInstance, maxReportingInstance, field.NewPath("reportingInstance"))...)
		errs = append(errs, requiredBounded(ev.Action, maxAction, field.NewPath("action"))...)
		errs = append(errs, requiredBounded(ev.Reason, maxReason, field.NewPath("reason"))...)
		if len(ev.Message) > maxNote {
			errs = append(errs, field.Invalid(field.NewPath("message"), "", fmt.Sprintf("can have at most %v characters", maxNote)))
		}
	}
	for _, msg := range validation.IsDNS1123Subdomain(ev.Namespace) {
		errs = append(errs, field.Invalid(field.NewPath("namespace"), ev.Namespace, msg))
	}
	return errs
}

func requiredBounded(v string, limit int, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if v == "" {
		errs = append(errs, field.Required(p, ""))
	}
	if len(v) > limit {
		errs = append(errs, field.Invalid(p, "", fmt.Sprintf("can have at most %v characters", limit)))
	}
	return errs
}

func validateSeries(ev *corev1.Event) field.ErrorList {
	if ev.Series == nil {
		return nil
	}
	var errs field.ErrorList
	if ev.Series.Count < 2 {
		errs = append(errs, field.Invalid(field.NewPath("series.count"), "", "should be at least 2"))
	}
	if ev.Series.LastObservedTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("series.lastObservedTime"), ""))
	}
	return errs
}

// SelectableFields returns the fields events.k8s.io/v1 events can be
// selected by, under their events.k8s.io names (regarding.*,
// reportingController); Kubernetes maps each to a core field.
func (eventStrategy) SelectableFields(obj runtime.Object) fields.Set {
	ev, ok := asCore(obj)
	if !ok {
		return nil
	}
	ref := ev.InvolvedObject
	return fields.Set{
		"reason":                    ev.Reason,
		"type":                      ev.Type,
		"reportingController":       ev.ReportingController,
		"regarding.kind":            ref.Kind,
		"regarding.namespace":       ref.Namespace,
		"regarding.name":            ref.Name,
		"regarding.uid":             string(ref.UID),
		"regarding.apiVersion":      ref.APIVersion,
		"regarding.resourceVersion": ref.ResourceVersion,
		"regarding.fieldPath":       ref.FieldPath,
	}
}

// TableColumns are those of core events; Priority 1 columns are -o wide.
func (eventStrategy) TableColumns() []metav1.TableColumnDefinition {
	doc := corev1.Event{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		{Name: "Last Seen", Type: "string", Description: doc["lastTimestamp"]},
		{Name: "Type", Type: "string", Description: doc["type"]},
		{Name: "Reason", Type: "string", Description: doc["reason"]},
		{Name: "Object", Type: "string", Description: doc["involvedObject"]},
		{Name: "Subobject", Type: "string", Priority: 1, Description: corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]},
		{Name: "Source", Type: "string", Priority: 1, Description: doc["source"]},
		{Name: "Message", Type: "string", Description: doc["message"]},
		{Name: "First Seen", Type: "string", Priority: 1, Description: doc["firstTimestamp"]},
		{Name: "Count", Type: "string", Priority: 1, Description: doc["count"]},
		{Name: "Name", Type: "string", Priority: 1, Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	}
}

func (s eventStrategy) TableRow(obj runtime.Object) []interface{} {
	ev, ok := asCore(obj)
	if !ok {
		return nil
	}
	now := s.now()
	first := since(ev.FirstTimestamp.Time, now)
	if ev.FirstTimestamp.IsZero() {
		first = since(ev.EventTime.Time, now)
	}
	last := since(ev.LastTimestamp.Time, now)
	if ev.LastTimestamp.IsZero() {
		last = first
	}
	count := ev.Count
	switch {
	case ev.Series != nil:
		last = since(ev.Series.LastObservedTime.Time, now)
		count = ev.Series.Count
	case count == 0:
		// Events written through events.k8s.io have no count when single.
		count = 1
	}
	object := strings.ToLower(ev.InvolvedObject.Kind)
	if ev.InvolvedObject.Name != "" {
		object += "/" + ev.InvolvedObject.Name
	}
	return []interface{}{
		last, ev.Type, ev.Reason, object, ev.InvolvedObject.FieldPath,
		eventSource(ev), strings.TrimSpace(ev.Message), first, int64(count), ev.Name,
	}
}

// eventSource prints "component, host", falling back to the reporting
// controller and instance of events that have no legacy source.
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
