package patch

import (
	"strings"
	"unicode"
	"unicode/utf8"

	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
)

// DefaultManager returns the field manager kube-apiserver records for a
// write whose request names none: the user agent's program name, i.e. what
// precedes its first "/" ("kubectl" for "kubectl/v1.32.0 (linux/amd64)
// kubernetes/abc"), without unprintable characters and cut to the 128
// bytes a manager name may have. kubectl usually names a manager itself
// ("kubectl-client-side-apply", "kubectl-create", ...); use that when the
// request has one.
func DefaultManager(userAgent string) string {
	program, _, _ := strings.Cut(userAgent, "/")
	var b strings.Builder
	for _, r := range program {
		if !unicode.IsPrint(r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > metav1validation.FieldManagerMaxLength {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
