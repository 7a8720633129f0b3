// Package audit records who did what to the API server, as Kubernetes'
// auditing does (audit.k8s.io/v1): a Policy decides per request how much to
// record, Filter turns each request into Events, and a LogWriter appends
// them as JSON lines to a rotated file. The types mirror audit.k8s.io/v1
// field for field so existing tooling reads the log unchanged.
package audit

import (
	"encoding/json"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// APIVersion is the group/version of Policy and Event documents.
const APIVersion = "audit.k8s.io/v1"

// HeaderAuditID is the response header carrying a request's audit ID; a
// client (or an aggregating API server) may send it to choose the ID.
const HeaderAuditID = "Audit-ID"

// Level says how much of a request is recorded.
type Level string

// The levels, from recording nothing to recording both bodies.
const (
	// LevelNone records nothing.
	LevelNone Level = "None"
	// LevelMetadata records user, verb, object reference, status and
	// timestamps, but no bodies.
	LevelMetadata Level = "Metadata"
	// LevelRequest also records the request body.
	LevelRequest Level = "Request"
	// LevelRequestResponse also records the response body.
	LevelRequestResponse Level = "RequestResponse"
)

// levelOrder ranks the levels; unknown levels rank below None.
var levelOrder = map[Level]int{LevelNone: 0, LevelMetadata: 1, LevelRequest: 2, LevelRequestResponse: 3}

// AtLeast reports whether l records at least as much as other.
func (l Level) AtLeast(other Level) bool {
	a, okA := levelOrder[l]
	b, okB := levelOrder[other]
	return okA && okB && a >= b
}

// Stage is the point in a request's life an Event describes.
type Stage string

// The stages, in the order a request passes them.
const (
	// StageRequestReceived is emitted before the request is handled.
	StageRequestReceived Stage = "RequestReceived"
	// StageResponseStarted is emitted, for long-running requests only
	// (watch, exec, attach, port-forward, proxy, followed logs), when the
	// response headers are sent.
	StageResponseStarted Stage = "ResponseStarted"
	// StageResponseComplete is emitted once the response has been sent.
	StageResponseComplete Stage = "ResponseComplete"
	// StagePanic is emitted when the handler panicked.
	StagePanic Stage = "Panic"
)

// validStages lists the stages a policy may omit.
var validStages = []Stage{StageRequestReceived, StageResponseStarted, StageResponseComplete, StagePanic}

// Event is one audit.k8s.io/v1 Event: one stage of one request. The JSON
// field names are Kubernetes'.
type Event struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Level      Level  `json:"level"`
	// AuditID is unique per request and shared by all its stages.
	AuditID    string `json:"auditID"`
	Stage      Stage  `json:"stage"`
	RequestURI string `json:"requestURI"`
	// Verb is the Kubernetes verb of a resource request, or the
	// lower-case HTTP method of any other request.
	Verb string           `json:"verb"`
	User authnv1.UserInfo `json:"user"`
	// ImpersonatedUser is who the user acted as, when impersonating.
	ImpersonatedUser *authnv1.UserInfo `json:"impersonatedUser,omitempty"`
	// SourceIPs are the X-Forwarded-For addresses, then X-Real-Ip, then
	// the connection's remote address; only the last is not
	// client-controlled.
	SourceIPs []string         `json:"sourceIPs,omitempty"`
	UserAgent string           `json:"userAgent,omitempty"`
	ObjectRef *ObjectReference `json:"objectRef,omitempty"`
	// ResponseStatus has the code, and for failures the Status the server
	// answered with (status, reason, message, details).
	ResponseStatus *metav1.Status `json:"responseStatus,omitempty"`
	// RequestObject is the JSON request body (levels Request and up).
	RequestObject json.RawMessage `json:"requestObject,omitempty"`
	// ResponseObject is the JSON response body (level RequestResponse).
	ResponseObject           json.RawMessage  `json:"responseObject,omitempty"`
	RequestReceivedTimestamp metav1.MicroTime `json:"requestReceivedTimestamp"`
	StageTimestamp           metav1.MicroTime `json:"stageTimestamp"`
	// Annotations are set by the filters and handlers the request passed
	// (authorization decision, pod security, ...).
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ObjectReference names the object a resource request acts on.
type ObjectReference struct {
	Resource        string `json:"resource,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIGroup        string `json:"apiGroup,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Subresource     string `json:"subresource,omitempty"`
}

// Well-known annotation keys and values other filters add with
// AddAnnotation.
const (
	// AnnotationDecision is the authorizer's decision: DecisionAllow or
	// DecisionForbid.
	AnnotationDecision = "authorization.k8s.io/decision"
	// AnnotationReason is the authorizer's reason for its decision.
	AnnotationReason = "authorization.k8s.io/reason"
	DecisionAllow    = "allow"
	DecisionForbid   = "forbid"
)
