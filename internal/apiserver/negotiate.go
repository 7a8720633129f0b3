package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	kprotobuf "k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"sigs.k8s.io/yaml"
)

// maxBodyBytes caps request bodies as Kubernetes does (3 MiB).
const maxBodyBytes = 3 << 20

// outputKind is what a client asked to receive.
type outputKind int

const (
	outObject   outputKind = iota // the object itself
	outTable                      // meta.k8s.io Table
	outMetadata                   // meta.k8s.io PartialObjectMetadata(List)
)

// output is the negotiated response format.
type output struct {
	kind        outputKind
	yaml        bool
	protobuf    bool
	tableGroupV string // meta.k8s.io/v1 or meta.k8s.io/v1beta1
}

const protobufType = "application/vnd.kubernetes.protobuf"

// negotiate picks the response format from the Accept header, preferring
// the client's order. CBOR is not offered; protobuf is, for objects and
// lists (tables are JSON only, as in Kubernetes).
func negotiate(r *http.Request) (output, error) {
	accept := r.Header.Get("Accept")
	if strings.TrimSpace(accept) == "" {
		return output{}, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		var out output
		switch mt {
		case "application/json", "*/*", "application/*":
		case "application/yaml":
			out.yaml = true
		case protobufType:
			// Tables are JSON only; metadata views come in protobuf too.
			if params["as"] == "Table" {
				continue
			}
			out.protobuf = true
		default:
			continue
		}
		switch params["as"] {
		case "":
		case "Table":
			if params["g"] != "meta.k8s.io" || (params["v"] != "v1" && params["v"] != "v1beta1") {
				continue
			}
			out.kind, out.tableGroupV = outTable, "meta.k8s.io/"+params["v"]
		case "PartialObjectMetadata", "PartialObjectMetadataList":
			if params["g"] != "meta.k8s.io" || params["v"] != "v1" {
				continue
			}
			out.kind = outMetadata
		default:
			continue
		}
		return out, nil
	}
	return output{}, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "", schema.GroupResource{}, "", "only the following media types are accepted: application/json, application/yaml", 0, false)
}

// decoder turns request bodies into typed objects.
type decoder struct {
	json, yaml, protobuf runtime.Serializer
}

func newDecoder(scheme *runtime.Scheme) *decoder {
	return &decoder{
		json:     kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Strict: true}),
		yaml:     kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true}),
		protobuf: kprotobuf.NewSerializer(scheme, scheme),
	}
}

// readBody reads at most maxBodyBytes.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("reading request body: %v", err))
	}
	if len(data) > maxBodyBytes {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes))
	}
	return data, nil
}

// fieldValidation returns the request's fieldValidation directive.
func fieldValidation(r *http.Request) (string, error) {
	v := r.URL.Query().Get("fieldValidation")
	switch v {
	case "":
		return metav1.FieldValidationWarn, nil
	case metav1.FieldValidationIgnore, metav1.FieldValidationWarn, metav1.FieldValidationStrict:
		return v, nil
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("fieldValidation must be one of %q, %q or %q, got %q", metav1.FieldValidationIgnore, metav1.FieldValidationWarn, metav1.FieldValidationStrict, v))
}

// decodeBody decodes a create or update body into an object of gvk. Unknown
// and duplicate fields fail the request under Strict and become warnings
// under Warn.
func (d *decoder) decodeBody(w http.ResponseWriter, r *http.Request, data []byte, gvk schema.GroupVersionKind, into runtime.Object) (runtime.Object, error) {
	validation, err := fieldValidation(r)
	if err != nil {
		return nil, err
	}
	ser := d.json
	switch ct := r.Header.Get("Content-Type"); {
	case isYAML(ct):
		// Convert first so that malformed YAML is reported as Kubernetes
		// does; duplicate keys count as duplicate fields.
		j, err := yaml.YAMLToJSONStrict(data)
		if err != nil {
			if j, err2 := yaml.YAMLToJSON(data); err2 == nil && validation != metav1.FieldValidationStrict {
				if validation == metav1.FieldValidationWarn {
					addWarning(w, err.Error())
				}
				data = j
				break
			}
			return nil, unrecognized(into, fmt.Errorf("error converting YAML to JSON: %w", err), data)
		}
		data = j
	case isProtobuf(ct):
		ser = d.protobuf
	case ct != "" && !isJSON(ct):
		return nil, unsupportedMediaType(ct, bodyMediaTypes...)
	}
	obj, actual, err := ser.Decode(data, &gvk, into)
	if err != nil && runtime.IsStrictDecodingError(err) && obj != nil {
		if validation == metav1.FieldValidationStrict {
			return nil, cannotHandle(actual, gvk, err)
		}
		if validation == metav1.FieldValidationWarn {
			if se, ok := err.(interface{ Errors() []error }); ok {
				for _, e := range se.Errors() {
					addWarning(w, e.Error())
				}
			}
		}
		err = nil
	}
	if err != nil {
		if actual != nil && actual.Kind != "" {
			return nil, cannotHandle(actual, gvk, err)
		}
		return nil, unrecognized(into, err, data)
	}
	if actual != nil && *actual != gvk {
		if actual.GroupVersion() != gvk.GroupVersion() {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", actual.GroupVersion(), gvk.GroupVersion()))
		}
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the kind in the data (%s) does not match the expected kind (%s)", actual.Kind, gvk.Kind))
	}
	return obj, nil
}

// cannotHandle is Kubernetes' 400 for a body of a known kind that does not
// decode: "Deployment in version "v1" cannot be handled as a Deployment: …".
func cannotHandle(actual *schema.GroupVersionKind, want schema.GroupVersionKind, err error) error {
	got := want
	if actual != nil && actual.Kind != "" {
		got = *actual
	}
	return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", got.Kind, got.Version, want.Kind, err))
}

// unrecognized is Kubernetes' 400 for a body whose kind cannot even be
// read, quoting its first 30 bytes.
func unrecognized(into runtime.Object, err error, body []byte) error {
	kind := reflect.TypeOf(into).Elem().Name()
	summary := string(body)
	if len(summary) > 30 {
		summary = summary[:30] + " ..."
	}
	return apierrors.NewBadRequest(fmt.Sprintf("the object provided is unrecognized (must be of type %s): %v (%s)", kind, err, summary))
}

func isYAML(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/yaml" || mt == "application/apply-patch+yaml"
}

func isProtobuf(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == protobufType
}

func isJSON(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/json" || mt == "*/*"
}

// addWarning adds a Kubernetes-style Warning header.
func addWarning(w http.ResponseWriter, msg string) {
	if w == nil {
		return
	}
	w.Header().Add("Warning", fmt.Sprintf("299 - %q", msg))
}

// protoEncoder encodes typed objects in Kubernetes' protobuf envelope.
var protoEncoder = kprotobuf.NewSerializer(nil, nil)

// writeProtobuf writes obj, whose kind must be set, as protobuf.
func writeProtobuf(w http.ResponseWriter, code int, obj runtime.Object) {
	var buf bytes.Buffer
	if err := protoEncoder.Encode(obj, &buf); err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	w.Header().Set("Content-Type", protobufType)
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// writeJSON writes v (already shaped for the client) with code; runtime
// objects go out as protobuf when the client asked for it.
func writeJSON(w http.ResponseWriter, code int, out output, v interface{}) {
	if obj, ok := v.(runtime.Object); ok && out.protobuf {
		writeProtobuf(w, code, obj)
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	writeBytes(w, code, out, data)
}

// writeBytes writes an already JSON-encoded body, converting it to YAML
// when that was asked for.
func writeBytes(w http.ResponseWriter, code int, out output, data []byte) {
	ct := "application/json"
	if out.yaml {
		y, err := yaml.JSONToYAML(data)
		if err != nil {
			writeError(w, apierrors.NewInternalError(err))
			return
		}
		data, ct = y, "application/yaml"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(code)
	_, _ = w.Write(data)
}
