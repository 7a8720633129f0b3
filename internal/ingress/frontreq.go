package ingress

import (
	"bufio"
	"bytes"
	"net/http"
)

// frontReq is a request head parsed by the Front, for the lean
// forwarder. Its slices point into head, a per-connection copy.
type frontReq struct {
	head   []byte
	method string
	uri    []byte
	host   string
	path   string
	length int64  // Content-Length, 0 without
	close  bool   // Connection: close
	keep   []span // header lines passed on, as offsets into head
}

// span is a header line's offsets in frontReq.head.
type span struct{ from, to int }

// maxFrontHead is the largest head the Front parses; net/http takes
// larger ones (up to its MaxHeaderBytes).
const maxFrontHead = 16 << 10

// read parses the request head at the start of br, leaving it there.
// It returns the head's length, or 0 when the request needs net/http
// (the connection is then handed over with the request unread). wait
// is called before it first waits for more of the head.
func (rq *frontReq) read(br *bufio.Reader, wait func()) (int, error) {
	var buf []byte
	n := 0
	for {
		buf, _ = br.Peek(br.Buffered())
		if len(buf) > 0 && (buf[0] == '\r' || buf[0] == '\n') {
			return 0, nil
		}
		crlf, lf := bytes.Index(buf, []byte("\r\n\r\n")), bytes.Index(buf, []byte("\n\n"))
		if lf >= 0 && (crlf < 0 || lf < crlf) {
			return 0, nil // bare LF line ends
		}
		if crlf >= 0 {
			n = crlf + 4
			break
		}
		if len(buf) >= maxFrontHead || len(buf) >= br.Size() {
			return 0, nil
		}
		if wait != nil {
			wait()
			wait = nil
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return 0, err
		}
	}
	rq.head = append(rq.head[:0], buf[:n]...)
	if !rq.parse() {
		return 0, nil
	}
	return n, nil
}

// parse fills rq from rq.head; false for anything the lean path leaves
// to net/http.
func (rq *frontReq) parse() bool {
	h := rq.head[:len(rq.head)-2] // keep the last line's CRLF
	rq.keep, rq.host, rq.length, rq.close = rq.keep[:0], "", 0, false
	eol := bytes.Index(h, []byte("\r\n"))
	line := h[:eol]
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return false
	}
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 || string(rest[sp2+1:]) != "HTTP/1.1" {
		return false
	}
	method, uri := line[:sp1], rest[:sp2]
	if !validFieldName(method) || uri[0] != '/' {
		return false
	}
	rq.method = internMethod(method)
	if rq.method == "" {
		return false
	}
	path := uri
	for i, c := range uri {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
		if c == '?' && len(path) == len(uri) {
			path = uri[:i]
		}
	}
	if bytes.IndexByte(path, '%') >= 0 {
		return false // net/http decodes the path
	}
	rq.uri = uri
	rq.path = string(path)
	hosts, lengths := 0, 0
	for pos := eol + 2; pos < len(h); {
		end := bytes.Index(h[pos:], []byte("\r\n"))
		line := h[pos : pos+end]
		from := pos
		pos += end + 2
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !validFieldName(line[:colon]) || bytes.IndexByte(line, '\n') >= 0 {
			return false
		}
		name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
		for _, c := range value {
			if (c < ' ' && c != '\t') || c == 0x7f {
				return false
			}
		}
		switch {
		case foldIs(name, "Host"):
			hosts++
			if !validHost(value) {
				return false
			}
			rq.host = string(value)
		case foldIs(name, "Content-Length"):
			lengths++
			if len(value) == 0 || len(value) > 15 {
				return false
			}
			rq.length = 0
			for _, c := range value {
				if c < '0' || c > '9' {
					return false
				}
				rq.length = rq.length*10 + int64(c-'0')
			}
		case foldIs(name, "Connection"):
			for v := value; len(v) > 0; {
				var t []byte
				t, v, _ = bytes.Cut(v, []byte(","))
				t = bytes.Trim(t, " \t")
				switch {
				case foldIs(t, "close"):
					rq.close = true
				case len(t) == 0 || foldIs(t, "keep-alive"):
				default:
					return false // headers named by Connection: net/http path
				}
			}
		case foldIs(name, "Transfer-Encoding"), foldIs(name, "Upgrade"), foldIs(name, "Expect"),
			foldIs(name, "Te"), foldIs(name, "Trailer"), foldIs(name, "Http2-Settings"):
			return false
		case foldIs(name, "Keep-Alive"), foldIs(name, "Proxy-Connection"), foldIs(name, "Proxy-Authorization"),
			foldIs(name, "Proxy-Authenticate"), foldIs(name, "Forwarded"), foldIs(name, "X-Forwarded-For"),
			foldIs(name, "X-Forwarded-Host"), foldIs(name, "X-Forwarded-Proto"):
			// hop-by-hop or replaced
		default:
			rq.keep = append(rq.keep, span{from, pos})
		}
	}
	return hosts == 1 && lengths <= 1 && rq.host != ""
}

// internMethod returns the method as a string without allocating for
// the standard ones; "" for CONNECT (net/http's).
func internMethod(m []byte) string {
	switch string(m) {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	case http.MethodConnect:
		return ""
	}
	return string(m)
}

// validHost accepts the characters of a host[:port] (names, IPv4 and
// bracketed IPv6 addresses).
func validHost(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}

// foldIs compares b with the ASCII string s case-insensitively.
func foldIs(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
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
