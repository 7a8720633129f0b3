// Package openapi serves the API server's OpenAPI documents: the v2 document
// at /openapi/v2 and the v3 index and per-group-version documents under
// /openapi/v3, in JSON and in protobuf, the way kube-apiserver serves them so
// that kubectl (explain, apply, diff, edit, server-side field validation
// detection) and client-go work unchanged.
//
// The schemas of the Kubernetes types come from zz_generated_openapi.go,
// which kube-openapi's openapi-gen produces from the types' doc comments;
// the paths and operations are derived from the registry's resources.
// Documents are built on first request and only their serialized bytes are
// kept, so that an idle server does not hold the large spec structures.
package openapi

//go:generate sh ../../../hack/update-openapi.sh
