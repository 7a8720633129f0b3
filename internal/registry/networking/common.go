// Package networking holds the networking.k8s.io/v1 resources: ingresses,
// ingress classes and network policies.
package networking

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// groupName is the API group every resource of this package belongs to.
const groupName = "networking.k8s.io"

// clock returns the current time; strategies hold one so tests can pin the
// ages printed in tables.
type clock func() time.Time

// age renders how long ago ts was, the way kubectl's AGE column does.
func age(ts metav1.Time, now time.Time) string {
	if ts.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(ts.Time))
}

func nameColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
}

func ageColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]}
}

// wrongType reports an object of a type the strategy does not serve; the
// store should never pass one, so this is an internal error, not a 422.
func wrongType(obj runtime.Object) field.ErrorList {
	return field.ErrorList{field.InternalError(nil, fmt.Errorf("unexpected object type %T", obj))}
}
