package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// bearerToken names the security scheme every operation requires.
const bearerToken = "BearerToken"

func info() *spec.Info {
	return &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "unversioned"}}
}

// buildV2 builds the OpenAPI v2 document describing every container and
// returns it serialized as JSON.
func buildV2(containers []common.RouteContainer, kinds kindIndex) ([]byte, error) {
	cfg := &common.Config{
		Info:                           info(),
		GetDefinitions:                 GetOpenAPIDefinitions,
		GetDefinitionName:              kinds.definitionName,
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		CommonResponses: map[int]spec.Response{
			http.StatusUnauthorized: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}},
		},
		SecurityDefinitions: &spec.SecurityDefinitions{
			bearerToken: &spec.SecurityScheme{SecuritySchemeProps: spec.SecuritySchemeProps{
				Type: "apiKey", Name: "authorization", In: "header",
				Description: "Bearer token authentication",
			}},
		},
		DefaultSecurity: []map[string][]string{{bearerToken: {}}},
	}
	sw, err := builder.BuildOpenAPISpecFromRoutes(containers, cfg)
	if err != nil {
		return nil, fmt.Errorf("building OpenAPI v2 document: %w", err)
	}
	out, err := sw.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding OpenAPI v2 document: %w", err)
	}
	return out, nil
}

// v3Builder builds per-group-version OpenAPI v3 documents. It resolves the
// generated definitions once and shares them between documents, since the
// builder only reads them.
type v3Builder struct {
	kinds       kindIndex
	definitions map[string]common.OpenAPIDefinition
}

func newV3Builder(kinds kindIndex) *v3Builder {
	ref := func(name string) spec.Ref {
		defName, _ := kinds.definitionName(name)
		return spec.MustCreateRef("#/components/schemas/" + common.EscapeJsonPointer(defName))
	}
	return &v3Builder{kinds: kinds, definitions: GetOpenAPIDefinitions(ref)}
}

// build returns the serialized v3 document describing containers.
func (b *v3Builder) build(containers []common.RouteContainer) ([]byte, error) {
	cfg := &common.OpenAPIV3Config{
		Info:                           info(),
		Definitions:                    b.definitions,
		GetDefinitionName:              b.kinds.definitionName,
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		CommonResponses: map[int]*spec3.Response{
			http.StatusUnauthorized: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}},
		},
		SecuritySchemes: spec3.SecuritySchemes{
			bearerToken: &spec3.SecurityScheme{SecuritySchemeProps: spec3.SecuritySchemeProps{
				Type: "apiKey", Name: "authorization", In: "header",
				Description: "Bearer token authentication",
			}},
		},
	}
	doc, err := builder3.BuildOpenAPISpecFromRoutes(containers, cfg)
	if err != nil {
		return nil, fmt.Errorf("building OpenAPI v3 document: %w", err)
	}
	doc.SecurityRequirement = []map[string][]string{{bearerToken: {}}}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding OpenAPI v3 document: %w", err)
	}
	return out, nil
}
