package ingress

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// frontHead extends responseHead for the Front.
type frontHead struct {
	responseHead
	clientKeep bool
}

// relayHead reads the endpoint's response head and writes it, without
// hop-by-hop headers, to the client; 1xx responses other than 100 go
// first.
func relayHead(fc *frontConn, rq *frontReq, br *bufio.Reader) (frontHead, error) {
	budget := maxResponseHeader
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			return frontHead{}, fmt.Errorf("ingress: reading response: %w", err)
		}
		minor, status, ok := parseStatusLine(line)
		if !ok {
			return frontHead{}, fmt.Errorf("ingress: malformed status line %q", line)
		}
		if cap(fc.scratch) > 64<<10 {
			fc.scratch = nil // do not keep a huge head's buffer
		}
		s := append(fc.scratch[:0], "HTTP/1.1 "...)
		s = append(s, line[9:]...)
		if len(line) == 12 {
			s = append(s, ' ') // the space before an empty reason is required
		}
		s = append(s, "\r\n"...)
		res := frontHead{responseHead: responseHead{status: status, length: -1}, clientKeep: !rq.close}
		var connTokens [][]byte // names listed in Connection, besides close/keep-alive
		closeTok, keepAliveTok, te, trailerAt := false, false, false, -1
		for {
			line, err := readLine(br, &budget)
			if err != nil {
				return frontHead{}, fmt.Errorf("ingress: reading response header: %w", err)
			}
			if len(line) == 0 {
				break
			}
			colon := bytes.IndexByte(line, ':')
			if colon <= 0 || !validFieldName(line[:colon]) {
				return frontHead{}, fmt.Errorf("ingress: malformed response header line %q", line)
			}
			name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
			switch {
			case foldIs(name, "Connection"):
				for v := value; len(v) > 0; {
					var t []byte
					t, v, _ = bytes.Cut(v, []byte(","))
					t = bytes.Trim(t, " \t")
					switch {
					case foldIs(t, "close"):
						closeTok = true
					case foldIs(t, "keep-alive"):
						keepAliveTok = true
					case len(t) > 0:
						connTokens = append(connTokens, append([]byte(nil), t...))
					}
				}
			case foldIs(name, "Transfer-Encoding"):
				if te || !foldIs(value, "chunked") {
					return frontHead{}, fmt.Errorf("ingress: unsupported transfer encoding %q", value)
				}
				te = true
			case foldIs(name, "Content-Length"):
				n, err := strconv.ParseInt(string(value), 10, 64)
				if err != nil || n < 0 || (res.length >= 0 && n != res.length) {
					return frontHead{}, fmt.Errorf("ingress: bad Content-Length %q", value)
				}
				res.length = n
			case foldIs(name, "Keep-Alive"), foldIs(name, "Proxy-Connection"), foldIs(name, "Proxy-Authenticate"),
				foldIs(name, "Proxy-Authorization"), foldIs(name, "Te"), foldIs(name, "Upgrade"):
			default:
				if foldIs(name, "Trailer") {
					trailerAt = len(s)
				}
				s = append(s, line...)
				s = append(s, "\r\n"...)
			}
		}
		if len(connTokens) > 0 {
			s = dropListed(s, connTokens, &trailerAt)
		}
		if status == http.StatusSwitchingProtocols {
			return frontHead{}, errors.New("ingress: 101 Switching Protocols without an upgrade request")
		}
		if status < 200 {
			if status != http.StatusContinue {
				fc.bw.Write(append(s, "\r\n"...))
				if err := fc.bw.Flush(); err != nil {
					return frontHead{}, &responseStarted{err}
				}
			}
			fc.scratch = s
			continue
		}
		if minor == 1 {
			res.keepAlive = !closeTok
		} else {
			res.keepAlive = keepAliveTok
		}
		res.noBody = rq.method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified
		switch {
		case res.noBody:
			if res.length >= 0 {
				s = appendLength(s, res.length)
			}
		case te:
			res.chunked = true
			if res.length >= 0 {
				res.keepAlive = false
			}
			res.length = -1
			s = append(s, "Transfer-Encoding: chunked\r\n"...)
		case res.length >= 0:
			s = appendLength(s, res.length)
		default: // until the endpoint closes: so does the client connection
			res.keepAlive, res.clientKeep = false, false
		}
		if trailerAt >= 0 && !res.chunked {
			end := trailerAt + bytes.Index(s[trailerAt:], []byte("\r\n")) + 2
			s = append(s[:trailerAt], s[end:]...)
		}
		if !res.clientKeep {
			s = append(s, "Connection: close\r\n"...)
		}
		s = append(s, "\r\n"...)
		fc.scratch = s
		if _, err := fc.bw.Write(s); err != nil {
			return frontHead{}, &responseStarted{err}
		}
		return res, nil
	}
}

func appendLength(s []byte, n int64) []byte {
	s = append(s, "Content-Length: "...)
	s = strconv.AppendInt(s, n, 10)
	return append(s, "\r\n"...)
}

// dropListed removes from the head in s (status line first) the header
// lines named in names, keeping trailerAt (the Trailer line's offset,
// -1 without) in step.
func dropListed(s []byte, names [][]byte, trailerAt *int) []byte {
	first := bytes.Index(s, []byte("\r\n")) + 2
	out := s[:first]
	newTrailer := -1
	for pos := first; pos < len(s); {
		end := pos + bytes.Index(s[pos:], []byte("\r\n")) + 2
		line := s[pos:end]
		name := line[:bytes.IndexByte(line, ':')]
		drop := false
		for _, n := range names {
			if foldIs(name, string(n)) {
				drop = true
			}
		}
		if !drop {
			if pos == *trailerAt {
				newTrailer = len(out)
			}
			out = append(out, line...) // out never overtakes pos
		}
		pos = end
	}
	*trailerAt = newTrailer
	return out
}

// relayBody copies the response body from the endpoint to the client,
// flushing whenever the endpoint pauses when the length is unknown.
func relayBody(fc *frontConn, br *bufio.Reader, res frontHead) error {
	switch {
	case res.noBody:
		return nil
	case res.chunked:
		return relayChunked(fc, br)
	}
	remaining := res.length // -1: until EOF
	for remaining != 0 {
		if br.Buffered() == 0 {
			if remaining < 0 {
				if err := fc.bw.Flush(); err != nil {
					return fmt.Errorf("ingress: writing to the client: %w", err)
				}
			}
			if _, err := br.Peek(1); err != nil {
				if err == io.EOF && remaining < 0 {
					return nil
				}
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("ingress: reading response body: %w", err)
			}
		}
		n := br.Buffered()
		if remaining >= 0 && int64(n) > remaining {
			n = int(remaining)
		}
		b, _ := br.Peek(n)
		if _, err := fc.bw.Write(b); err != nil {
			return fmt.Errorf("ingress: writing to the client: %w", err)
		}
		br.Discard(n)
		if remaining > 0 {
			remaining -= int64(n)
		}
	}
	return nil
}

// relayChunked copies a chunked body, re-framing each chunk (without
// extensions) and passing the trailer section on.
func relayChunked(fc *frontConn, br *bufio.Reader) error {
	budget := maxResponseHeader
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			return fmt.Errorf("ingress: reading chunk: %w", err)
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		line = bytes.Trim(line, " \t")
		size, err := strconv.ParseUint(string(line), 16, 62)
		if err != nil || len(line) == 0 {
			return fmt.Errorf("ingress: bad chunk size %q", line)
		}
		var num [20]byte
		fc.bw.Write(strconv.AppendUint(num[:0], size, 16))
		fc.bw.WriteString("\r\n")
		if size == 0 {
			for { // trailer section
				line, err := readLine(br, &budget)
				if err != nil {
					return fmt.Errorf("ingress: reading trailer: %w", err)
				}
				fc.bw.Write(line)
				fc.bw.WriteString("\r\n")
				if len(line) == 0 {
					return nil
				}
			}
		}
		for remaining := int64(size); remaining > 0; {
			if br.Buffered() == 0 {
				if err := fc.bw.Flush(); err != nil {
					return fmt.Errorf("ingress: writing to the client: %w", err)
				}
			}
			b, err := br.Peek(int(min(remaining, int64(max(br.Buffered(), 1)))))
			if len(b) == 0 {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("ingress: reading chunk: %w", err)
			}
			if _, err := fc.bw.Write(b); err != nil {
				return fmt.Errorf("ingress: writing to the client: %w", err)
			}
			br.Discard(len(b))
			remaining -= int64(len(b))
		}
		if line, err := readLine(br, &budget); err != nil || len(line) != 0 {
			return fmt.Errorf("ingress: chunk not followed by CRLF: %v", err)
		}
		fc.bw.WriteString("\r\n")
		if br.Buffered() == 0 {
			if err := fc.bw.Flush(); err != nil {
				return fmt.Errorf("ingress: writing to the client: %w", err)
			}
		}
	}
}
