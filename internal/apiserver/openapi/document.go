package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// document is one serialized OpenAPI document. Only compressed bytes are
// kept: the documents compress about tenfold and most clients (every Go
// client) accept gzip, so the server holds a fraction of their size.
type document struct {
	// etag is the upper-case hex SHA-512 of the JSON, which is also the
	// hash the v3 index puts in each document's URL.
	etag         string
	lastModified time.Time
	json         encoded
	// proto converts the JSON to protobuf on first use and keeps the result.
	proto func() (encoded, error)
}

// encoded is a body kept gzip-compressed, with its uncompressed length.
type encoded struct {
	gz   []byte
	size int
}

// newDocument wraps the JSON form of a document. toProto converts JSON to
// the document's protobuf form; it is called at most once, on the first
// request for protobuf, and may be nil for documents only served as JSON.
// releaseMemory runs after a conversion.
func newDocument(json []byte, toProto func([]byte) ([]byte, error), releaseMemory func()) (*document, error) {
	j, err := compress(json)
	if err != nil {
		return nil, err
	}
	d := &document{
		etag:         fmt.Sprintf("%X", sha512.Sum512(json)),
		lastModified: time.Now().UTC().Truncate(time.Second),
		json:         j,
	}
	d.proto = sync.OnceValues(func() (encoded, error) {
		if toProto == nil {
			return encoded{}, fmt.Errorf("document has no protobuf form")
		}
		raw, err := d.json.bytes()
		if err != nil {
			return encoded{}, err
		}
		pb, err := toProto(raw)
		if err != nil {
			return encoded{}, fmt.Errorf("converting OpenAPI document to protobuf: %w", err)
		}
		defer releaseMemory()
		return compress(pb)
	})
	return d, nil
}

func compress(b []byte) (encoded, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return encoded{}, fmt.Errorf("compressing OpenAPI document: %w", err)
	}
	if _, err := zw.Write(b); err != nil {
		return encoded{}, fmt.Errorf("compressing OpenAPI document: %w", err)
	}
	if err := zw.Close(); err != nil {
		return encoded{}, fmt.Errorf("compressing OpenAPI document: %w", err)
	}
	return encoded{gz: bytes.Clone(buf.Bytes()), size: len(b)}, nil
}

// bytes returns the uncompressed body.
func (e encoded) bytes() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(e.gz))
	if err != nil {
		return nil, fmt.Errorf("decompressing OpenAPI document: %w", err)
	}
	out := make([]byte, 0, e.size)
	buf := bytes.NewBuffer(out)
	if _, err := io.Copy(buf, zr); err != nil {
		return nil, fmt.Errorf("decompressing OpenAPI document: %w", err)
	}
	return buf.Bytes(), nil
}

// serve writes body with the document's validators. A request whose
// If-None-Match names the document's ETag gets 304 Not Modified. The body is
// sent gzip-encoded when the client accepts it, plain otherwise.
func (d *document) serve(w http.ResponseWriter, r *http.Request, contentType string, body encoded) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Etag", strconv.Quote(d.etag))
	h.Set("Last-Modified", d.lastModified.Format(http.TimeFormat))
	h.Add("Vary", "Accept-Encoding")
	if etagMatches(r.Header.Get("If-None-Match"), d.etag) {
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	gzipped := acceptsGzip(r.Header.Get("Accept-Encoding"))
	if gzipped {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(body.gz)))
	} else {
		h.Set("Content-Length", strconv.Itoa(body.size))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if gzipped {
		_, _ = w.Write(body.gz)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(body.gz))
	if err != nil {
		return // the bytes were compressed by this process; cannot happen
	}
	_, _ = io.Copy(w, zr)
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 prescribes for If-None-Match).
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strconv.Quote(etag)
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == "*" || candidate == want {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: an
// explicit gzip entry decides, otherwise a "*" entry does.
func acceptsGzip(header string) bool {
	wildcard := false
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(part, ";")
		switch strings.ToLower(strings.TrimSpace(fields[0])) {
		case "gzip":
			return qValue(fields[1:]) > 0
		case "*":
			wildcard = qValue(fields[1:]) > 0
		}
	}
	return wildcard
}

// qValue returns the quality an Accept-Encoding entry's parameters give;
// an entry without one has quality 1.
func qValue(params []string) float64 {
	for _, p := range params {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0
			}
			return q
		}
	}
	return 1
}
