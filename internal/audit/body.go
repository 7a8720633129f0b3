package audit

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// capture keeps a copy of up to limit bytes of a body; a longer body is
// not kept at all, since half a JSON document cannot be recorded.
type capture struct {
	limit int

	mu       sync.Mutex
	buf      []byte
	overflow bool
}

func (c *capture) write(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.overflow {
		return
	}
	if len(c.buf)+len(p) > c.limit {
		c.overflow, c.buf = true, nil
		return
	}
	c.buf = append(c.buf, p...)
}

// json returns the captured body if it is one complete JSON document.
func (c *capture) json() []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.overflow || len(c.buf) == 0 || !json.Valid(c.buf) {
		return nil
	}
	return bytes.Clone(c.buf)
}

// teeBody copies what the handler reads of the request body.
type teeBody struct {
	io.ReadCloser
	c *capture
}

func (t teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		t.c.write(p[:n])
	}
	return n, err
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// wantsRequestBody: the body is recorded from level Request up; at
// Metadata it is still read for a create without a name in the URL,
// whose object reference takes the name from the body (as Kubernetes').
func wantsRequestBody(r *http.Request, level Level, a authorizer.Attributes) bool {
	if r.Body == nil || r.Body == http.NoBody || !isJSON(r.Header.Get("Content-Type")) {
		return false
	}
	return level.AtLeast(LevelRequest) || (a.ResourceRequest && a.Verb == "create" && a.Name == "" && a.Subresource == "")
}

// setRequestObject fills what the request body tells.
func setRequestObject(ev *Event, body *capture, rc RequestConfig) {
	raw := body.json()
	if raw == nil {
		return
	}
	if ev.ObjectRef != nil && ev.ObjectRef.Name == "" && ev.Verb == "create" {
		var obj struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if json.Unmarshal(raw, &obj) == nil {
			ev.ObjectRef.Name = obj.Metadata.Name
		}
	}
	if rc.Level.AtLeast(LevelRequest) {
		ev.RequestObject = recordedBody(raw, rc)
	}
}

// setResponse fills the response's status and, at RequestResponse, body.
func setResponse(ev *Event, w *auditWriter, rc RequestConfig) {
	code := w.code
	if code == 0 {
		code = http.StatusOK // what net/http sends when the handler wrote nothing
	}
	ev.ResponseStatus = &metav1.Status{Code: int32(code)}
	raw := w.body.json()
	if raw == nil {
		return
	}
	var status metav1.Status
	if json.Unmarshal(raw, &status) == nil && status.Kind == "Status" {
		// Only the bounded fields, as Kubernetes: no list metadata.
		ev.ResponseStatus = &metav1.Status{Status: status.Status, Message: status.Message, Reason: status.Reason,
			Details: status.Details, Code: int32(code)}
	}
	if rc.Level.AtLeast(LevelRequestResponse) {
		ev.ResponseObject = recordedBody(raw, rc)
	}
}

// recordedBody is raw, without managed fields if the policy says so.
func recordedBody(raw []byte, rc RequestConfig) json.RawMessage {
	if !rc.OmitManagedFields {
		return raw
	}
	return withoutManagedFields(raw)
}

// withoutManagedFields drops metadata.managedFields of an object and of a
// list's items; anything it cannot parse is returned unchanged.
func withoutManagedFields(raw []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep large integers exact
	var obj map[string]any
	if dec.Decode(&obj) != nil {
		return raw
	}
	changed := dropManagedFields(obj)
	if items, ok := obj["items"].([]any); ok {
		for _, item := range items {
			if m, ok := item.(map[string]any); ok && dropManagedFields(m) {
				changed = true
			}
		}
	}
	if !changed {
		return raw
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if enc.Encode(obj) != nil {
		return raw
	}
	return bytes.TrimRight(out.Bytes(), "\n")
}

func dropManagedFields(obj map[string]any) bool {
	meta, ok := obj["metadata"].(map[string]any)
	if !ok {
		return false
	}
	if _, ok := meta["managedFields"]; !ok {
		return false
	}
	delete(meta, "managedFields")
	return true
}
