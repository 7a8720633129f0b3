package filters

import (
	"net/http"

	"github.com/skiff-io/skiff/internal/apiserver/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// writeStatus answers with err as a Kubernetes Status object.
func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) { status.Write(w, err) }
