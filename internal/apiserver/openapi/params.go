package openapi

import (
	"k8s.io/kube-openapi/pkg/common"
)

// The query parameters below are the ones Kubernetes declares on its
// operations. Their names and types matter to clients (kubectl detects
// server-side field validation by finding fieldValidation on PATCH); the
// descriptions are this server's own.

func queryParam(name, dataType, description string) common.Parameter {
	return param{name: name, dataType: dataType, description: description, kind: common.QueryParameterKind}
}

func pathParam(name, description string) common.Parameter {
	return param{name: name, dataType: "string", description: description, kind: common.PathParameterKind, required: true}
}

func bodyParam(required bool) common.Parameter {
	return param{name: "body", dataType: "object", kind: common.BodyParameterKind, required: required}
}

var (
	paramPretty = queryParam("pretty", "string",
		"If 'true', the response is indented for reading.")
	paramNamespace = pathParam("namespace",
		"namespace the object lives in")

	paramDryRun = queryParam("dryRun", "string",
		"When set to 'All', the request is fully processed but nothing is persisted.")
	paramFieldManager = queryParam("fieldManager", "string",
		"Name of the actor making the change, recorded in managedFields. Required for apply patches, at most 128 printable characters.")
	paramFieldValidation = queryParam("fieldValidation", "string",
		"How unknown and duplicate fields in the body are handled: Ignore drops them, Warn (the default) drops them and returns a warning per field, Strict rejects the request.")
	paramForce = queryParam("force", "boolean",
		"For apply patches only: take ownership of fields other managers own instead of failing with a conflict.")

	paramAllowWatchBookmarks = queryParam("allowWatchBookmarks", "boolean",
		"Ask a watch to send BOOKMARK events carrying only a resourceVersion.")
	paramContinue = queryParam("continue", "string",
		"Token from a previous paginated list response to fetch the next page.")
	paramFieldSelector = queryParam("fieldSelector", "string",
		"Only return objects whose fields match this selector.")
	paramLabelSelector = queryParam("labelSelector", "string",
		"Only return objects whose labels match this selector.")
	paramLimit = queryParam("limit", "integer",
		"Maximum number of objects to return; a continue token is returned when more remain.")
	paramResourceVersion = queryParam("resourceVersion", "string",
		"Which version of the data may serve the request; see resourceVersionMatch.")
	paramResourceVersionMatch = queryParam("resourceVersionMatch", "string",
		"How resourceVersion is applied to a list: Exact or NotOlderThan.")
	paramSendInitialEvents = queryParam("sendInitialEvents", "boolean",
		"Start a watch with synthetic ADDED events for the current objects, followed by a bookmark.")
	paramTimeoutSeconds = queryParam("timeoutSeconds", "integer",
		"Time limit for the list or watch call.")
	paramWatch = queryParam("watch", "boolean",
		"Stream changes to the described objects instead of listing them.")

	paramGracePeriodSeconds = queryParam("gracePeriodSeconds", "integer",
		"Seconds before the object is deleted; 0 deletes it immediately. Defaults to the object's own grace period.")
	paramIgnoreStoreReadError = queryParam("ignoreStoreReadErrorWithClusterBreakingPotential", "boolean",
		"Delete an object that cannot be read from storage. Unsafe; use only to remove corrupt objects.")
	paramOrphanDependents = queryParam("orphanDependents", "boolean",
		"Deprecated: use propagationPolicy. Whether dependents are orphaned instead of garbage collected.")
	paramPropagationPolicy = queryParam("propagationPolicy", "string",
		"Whether and how dependents are garbage collected: Orphan, Background or Foreground.")
)

// listParams are the parameters of list and watch operations.
func listParams() []common.Parameter {
	return []common.Parameter{
		paramAllowWatchBookmarks, paramContinue, paramFieldSelector, paramLabelSelector,
		paramLimit, paramResourceVersion, paramResourceVersionMatch,
		paramSendInitialEvents, paramTimeoutSeconds, paramWatch,
	}
}

// writeParams are the parameters of create and replace operations.
func writeParams() []common.Parameter {
	return []common.Parameter{bodyParam(true), paramDryRun, paramFieldManager, paramFieldValidation}
}

// patchParams are the parameters of patch operations.
func patchParams() []common.Parameter {
	return []common.Parameter{bodyParam(true), paramDryRun, paramFieldManager, paramFieldValidation, paramForce}
}

// deleteParams are the parameters of single-object delete operations.
func deleteParams() []common.Parameter {
	return []common.Parameter{
		bodyParam(false), paramDryRun, paramGracePeriodSeconds,
		paramIgnoreStoreReadError, paramOrphanDependents, paramPropagationPolicy,
	}
}

// deleteCollectionParams are the parameters of deletecollection: the delete
// options plus the list options that pick the objects.
func deleteCollectionParams() []common.Parameter {
	return append(deleteParams(),
		paramContinue, paramFieldSelector, paramLabelSelector, paramLimit,
		paramResourceVersion, paramResourceVersionMatch, paramSendInitialEvents,
		paramTimeoutSeconds,
	)
}
