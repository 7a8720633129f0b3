package ingress

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strconv"
)

// responseHead is what the lean forwarder needs to know about an
// endpoint's response once its head went to the client.
type responseHead struct {
	status    int
	noBody    bool
	chunked   bool
	length    int64 // -1: chunked or until the endpoint closes
	keepAlive bool  // the connection can serve another request after the body
}

// readResponseHead reads the endpoint's response head from br into w's
// header (without hop-by-hop headers) and writes the status; 1xx
// responses other than 100 Continue are passed on first.
func (p *Proxy) readResponseHead(w http.ResponseWriter, r *http.Request, br *bufio.Reader) (responseHead, error) {
	h := w.Header()
	budget := maxResponseHeader
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			return responseHead{}, fmt.Errorf("ingress: reading response: %w", err)
		}
		minor, status, ok := parseStatusLine(line)
		if !ok {
			return responseHead{}, fmt.Errorf("ingress: malformed status line %q", line)
		}
		if err := readHeaderLines(br, &budget, h, ""); err != nil {
			return responseHead{}, err
		}
		if status == http.StatusSwitchingProtocols {
			return responseHead{}, errors.New("ingress: 101 Switching Protocols without an upgrade request")
		}
		if status >= 100 && status < 200 {
			if status != http.StatusContinue {
				w.WriteHeader(status)
			}
			clear(h)
			continue
		}
		return finishHead(w, r, h, minor, status)
	}
}

// finishHead works out the framing of a final response, removes the
// hop-by-hop headers and writes the status.
func finishHead(w http.ResponseWriter, r *http.Request, h http.Header, minor, status int) (responseHead, error) {
	res := responseHead{status: status, length: -1}
	conn := h["Connection"]
	if minor == 1 {
		res.keepAlive = !connectionListed(conn, "close")
	} else {
		res.keepAlive = connectionListed(conn, "keep-alive")
	}
	res.noBody = r.Method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified
	te, cl := h["Transfer-Encoding"], h["Content-Length"]
	switch {
	case res.noBody:
	case te != nil:
		if len(te) != 1 || !asciiEqualFold(te[0], "chunked") {
			return res, fmt.Errorf("ingress: unsupported transfer encoding %q", te)
		}
		res.chunked = true
		if cl != nil { // RFC 9112 section 6.3: chunked wins, the connection must close
			delete(h, "Content-Length")
			res.keepAlive = false
		}
	case cl != nil:
		for _, v := range cl[1:] {
			if v != cl[0] {
				return res, fmt.Errorf("ingress: conflicting Content-Length %q", cl)
			}
		}
		n, err := strconv.ParseInt(cl[0], 10, 64)
		if err != nil || n < 0 {
			return res, fmt.Errorf("ingress: bad Content-Length %q", cl[0])
		}
		res.length = n
		h["Content-Length"] = cl[:1]
	default:
		res.keepAlive = false // the body ends when the endpoint closes
	}
	for _, v := range conn {
		for v != "" {
			var t []byte
			t, v = nextToken(v)
			if len(t) > 0 {
				delete(h, textproto.CanonicalMIMEHeaderKey(string(t)))
			}
		}
	}
	for k := range h {
		if hopByHop(k) && !(k == "Trailer" && res.chunked) {
			delete(h, k)
		}
	}
	w.WriteHeader(status)
	return res, nil
}

// nextToken returns the first comma-separated token of s, trimmed, and
// the rest.
func nextToken(s string) ([]byte, string) {
	i := 0
	for i < len(s) && s[i] != ',' {
		i++
	}
	t := bytes.TrimSpace([]byte(s[:i]))
	if i < len(s) {
		i++
	}
	return t, s[i:]
}

// copyResponseBody streams the body described by res from br to w,
// flushing as the endpoint pauses when the length is not known.
// Trailers of a chunked body become the response's trailers.
func copyResponseBody(w http.ResponseWriter, br *bufio.Reader, res responseHead, bufs *bufferPool) error {
	if res.noBody {
		return nil
	}
	var body io.Reader = br
	switch {
	case res.chunked:
		body = httputil.NewChunkedReader(br)
	case res.length >= 0:
		body = &io.LimitedReader{R: br, N: res.length}
	}
	flusher, _ := w.(http.Flusher)
	streaming := res.length < 0 && flusher != nil
	buf := bufs.Get()
	defer bufs.Put(buf)
	var done int64
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			done += int64(n)
			if _, err := w.Write(buf[:n]); err != nil {
				return fmt.Errorf("ingress: writing to the client: %w", err)
			}
			if streaming && br.Buffered() == 0 {
				flusher.Flush()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("ingress: reading response body: %w", rerr)
		}
	}
	switch {
	case res.length >= 0 && done < res.length:
		return fmt.Errorf("ingress: response body: %w", io.ErrUnexpectedEOF)
	case res.chunked:
		budget := maxResponseHeader
		return readHeaderLines(br, &budget, w.Header(), http.TrailerPrefix)
	}
	return nil
}

// readLine reads one CRLF- (or LF-) terminated line without the
// terminator, charging its length to budget. The line is valid until the
// next read from br.
func readLine(br *bufio.Reader, budget *int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(long) <= *budget {
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	*budget -= len(line)
	if *budget < 0 {
		return nil, errors.New("ingress: response head too large")
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, nil
}

// readHeaderLines reads header fields up to the empty line into h,
// their names prefixed with prefix.
func readHeaderLines(br *bufio.Reader, budget *int, h http.Header, prefix string) error {
	for {
		line, err := readLine(br, budget)
		if err != nil {
			return fmt.Errorf("ingress: reading response header: %w", err)
		}
		if len(line) == 0 {
			return nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !validFieldName(line[:colon]) {
			return fmt.Errorf("ingress: malformed response header line %q", line)
		}
		k := headerKey(line[:colon])
		if prefix != "" {
			k = prefix + k
		}
		h[k] = append(h[k], string(bytes.TrimSpace(line[colon+1:])))
	}
}

// parseStatusLine parses "HTTP/1.x NNN reason".
func parseStatusLine(line []byte) (minor, status int, ok bool) {
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return 0, 0, false
	}
	switch line[7] {
	case '0':
	case '1':
		minor = 1
	default:
		return 0, 0, false
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		status = status*10 + int(c-'0')
	}
	return minor, status, status >= 100
}

// validFieldName reports whether b is an RFC 9110 token.
func validFieldName(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0:
		default:
			return false
		}
	}
	return true
}

// headerKey canonicalises a field name, without allocating for the
// common ones.
func headerKey(b []byte) string {
	switch string(b) {
	case "Content-Type", "content-type":
		return "Content-Type"
	case "Content-Length", "content-length":
		return "Content-Length"
	case "Date", "date":
		return "Date"
	case "Server", "server":
		return "Server"
	case "Connection", "connection":
		return "Connection"
	case "Transfer-Encoding", "transfer-encoding":
		return "Transfer-Encoding"
	case "Cache-Control", "cache-control":
		return "Cache-Control"
	case "Content-Encoding", "content-encoding":
		return "Content-Encoding"
	case "Etag", "ETag", "etag":
		return "Etag"
	case "Last-Modified", "last-modified":
		return "Last-Modified"
	case "Keep-Alive", "keep-alive":
		return "Keep-Alive"
	case "Vary", "vary":
		return "Vary"
	case "Location", "location":
		return "Location"
	case "Set-Cookie", "set-cookie":
		return "Set-Cookie"
	case "X-Content-Type-Options", "x-content-type-options":
		return "X-Content-Type-Options"
	}
	return textproto.CanonicalMIMEHeaderKey(string(b))
}

// asciiEqualFold compares ASCII strings case-insensitively.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
