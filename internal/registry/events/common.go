// Package events holds the events.k8s.io/v1 Event resource. Its objects
// are stored as core/v1 events and converted on the way in and out, so both
// APIs see the same events.
package events

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// groupName is the API group of this package's resource.
const groupName = "events.k8s.io"

// clock returns the current time; the strategy holds one so tests can pin
// the ages printed in tables.
type clock func() time.Time

func coreTypeMeta() metav1.TypeMeta     { return metav1.TypeMeta{APIVersion: "v1", Kind: "Event"} }
func coreListTypeMeta() metav1.TypeMeta { return metav1.TypeMeta{APIVersion: "v1", Kind: "EventList"} }
func eventsTypeMeta() metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: groupName + "/v1", Kind: "Event"}
}
func eventsListTypeMeta() metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: groupName + "/v1", Kind: "EventList"}
}

// since renders how long ago t was, "<unknown>" for a zero time.
func since(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

func wrongType(obj runtime.Object) field.ErrorList {
	return field.ErrorList{field.InternalError(nil, fmt.Errorf("unexpected object type %T", obj))}
}
