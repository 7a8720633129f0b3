package openapi

import (
	"k8s.io/kube-openapi/pkg/common"
)

// route is one operation on one path. It implements common.Route so that
// kube-openapi's v2 and v3 builders can turn it into spec operations.
type route struct {
	method      string
	path        string
	operationID string
	tag         string
	description string
	params      []common.Parameter
	consumes    []string
	produces    []string
	extensions  map[string]interface{}
	// body is a sample of the request body's Go type; nil means no body.
	body      interface{}
	responses []common.StatusCodeResponse
}

var _ common.Route = (*route)(nil)

func (r *route) Method() string                   { return r.method }
func (r *route) Path() string                     { return r.path }
func (r *route) OperationName() string            { return r.operationID }
func (r *route) Parameters() []common.Parameter   { return r.params }
func (r *route) Description() string              { return r.description }
func (r *route) Consumes() []string               { return r.consumes }
func (r *route) Produces() []string               { return r.produces }
func (r *route) Metadata() map[string]interface{} { return r.extensions }
func (r *route) RequestPayloadSample() interface{} {
	return r.body
}
func (r *route) ResponsePayloadSample() interface{} { return nil }
func (r *route) StatusCodeResponses() []common.StatusCodeResponse {
	return r.responses
}

// operationIDAndTags implements common.Config.GetOperationIDAndTagsFromRoute.
func operationIDAndTags(r common.Route) (string, []string, error) {
	if rt, ok := r.(*route); ok && rt.tag != "" {
		return rt.operationID, []string{rt.tag}, nil
	}
	return r.OperationName(), nil, nil
}

// response is one status code an operation answers with and the Go type of
// its body.
type response struct {
	code    int
	message string
	model   interface{}
}

func (r response) Code() int          { return r.code }
func (r response) Message() string    { return r.message }
func (r response) Model() interface{} { return r.model }

// param is one operation parameter.
type param struct {
	name        string
	description string
	required    bool
	kind        common.ParameterKind
	// dataType is a simple OpenAPI type: "string", "integer" or "boolean".
	dataType string
}

func (p param) Name() string               { return p.name }
func (p param) Description() string        { return p.description }
func (p param) Required() bool             { return p.required }
func (p param) Kind() common.ParameterKind { return p.kind }
func (p param) DataType() string           { return p.dataType }
func (p param) AllowMultiple() bool        { return false }

// container groups the routes of one API root. Routes carry full paths, so
// the container needs no path parameters of its own.
type container struct {
	root   string
	routes []common.Route
}

func (c *container) RootPath() string                   { return c.root }
func (c *container) PathParameters() []common.Parameter { return nil }
func (c *container) Routes() []common.Route             { return c.routes }
