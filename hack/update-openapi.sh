#!/bin/sh
# Regenerates internal/apiserver/openapi/zz_generated_openapi.go: the OpenAPI
# definitions of every Kubernetes type the API server serves, produced by
# kube-openapi's openapi-gen from the types' own doc comments and markers.
# The generator runs at the kube-openapi version go.mod pins, so the generated
# code always matches the builder and handler packages it is compiled with.
set -eu

cd "$(dirname "$0")/.."

version=$(go list -m -f '{{.Version}}' k8s.io/kube-openapi)
pkg=github.com/skiff-io/skiff/internal/apiserver/openapi
out=internal/apiserver/openapi

go run "k8s.io/kube-openapi/cmd/openapi-gen@${version}" \
	--go-header-file /dev/null \
	--output-dir "${out}" \
	--output-pkg "${pkg}" \
	--output-file zz_generated_openapi.go \
	--report-filename /dev/null \
	k8s.io/api/core/v1 \
	k8s.io/api/apps/v1 \
	k8s.io/api/batch/v1 \
	k8s.io/api/autoscaling/v1 \
	k8s.io/api/autoscaling/v2 \
	k8s.io/api/networking/v1 \
	k8s.io/api/rbac/v1 \
	k8s.io/api/storage/v1 \
	k8s.io/api/coordination/v1 \
	k8s.io/api/discovery/v1 \
	k8s.io/api/events/v1 \
	k8s.io/api/policy/v1 \
	k8s.io/api/scheduling/v1 \
	k8s.io/api/scheduling/v1alpha3 \
	k8s.io/api/certificates/v1 \
	k8s.io/api/authentication/v1 \
	k8s.io/api/authorization/v1 \
	k8s.io/apimachinery/pkg/apis/meta/v1 \
	k8s.io/apimachinery/pkg/runtime \
	k8s.io/apimachinery/pkg/api/resource \
	k8s.io/apimachinery/pkg/util/intstr \
	k8s.io/apimachinery/pkg/version
