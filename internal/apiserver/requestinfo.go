package apiserver

import (
	"net/http"

	"github.com/skiff-io/skiff/internal/apiserver/request"
)

// requestInfo is what the URL and method of a resource request say.
type requestInfo = request.Info

func parseRequestInfo(r *http.Request) (requestInfo, bool) { return request.Parse(r) }

func boolParam(v string) bool { return request.BoolParam(v) }
