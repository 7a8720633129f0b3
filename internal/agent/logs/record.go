// Package logs reads container logs written in the CRI log format, the way
// the kubelet serves them to "kubectl logs": tail, since, timestamps,
// byte limits and following a running container across log rotation.
//
// Each record in a CRI log file is one line:
//
//	<RFC3339Nano time> <stdout|stderr> <F|P>[:<more tags>] <content>
//
// where P marks a partial record that the next record of the same stream
// continues and F ends a line.
package logs

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"
)

// record is one parsed line of a CRI log file.
type record struct {
	// time is when the runtime wrote the record.
	time time.Time
	// stream is "stdout" or "stderr".
	stream string
	// partial reports a P record: the line continues in the next record of
	// the same stream.
	partial bool
	// content is the record's payload; for full records it keeps the
	// trailing newline, for partial ones the newline the file format adds
	// is removed.
	content []byte
}

// parseRecord parses one raw line of a CRI log file, including its trailing
// newline if present.
func parseRecord(line []byte) (record, error) {
	var r record
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return r, errors.New("timestamp is not found")
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return r, fmt.Errorf("unexpected timestamp %q: %w", ts, err)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return r, errors.New("stream type is not found")
	}
	if s := string(stream); s != "stdout" && s != "stderr" {
		return r, fmt.Errorf("unexpected stream type %q", stream)
	}
	tags, content, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		// A record with no content may lack the separator after the tag.
		tags, content = bytes.TrimSuffix(rest, []byte{'\n'}), []byte{'\n'}
	}
	tag, _, _ := bytes.Cut(tags, []byte{':'})
	switch string(tag) {
	case "P":
		r.partial = true
		content = bytes.TrimSuffix(content, []byte{'\n'})
	case "F":
	default:
		return r, fmt.Errorf("unexpected log tag %q", tags)
	}
	r.time, r.stream, r.content = t, string(stream), content
	return r, nil
}

// line is a complete log line assembled from one or more records.
type line struct {
	// time is the time of the line's first record.
	time    time.Time
	stream  string
	content []byte
}

// assembler joins partial records into lines, separately per stream.
type assembler struct {
	open map[string]*line
}

// add folds a record in and returns the line it completes, if any.
func (a *assembler) add(r record) (line, bool) {
	if a.open == nil {
		a.open = map[string]*line{}
	}
	l := a.open[r.stream]
	if l == nil {
		l = &line{time: r.time, stream: r.stream}
	}
	l.content = append(l.content, r.content...)
	if r.partial {
		a.open[r.stream] = l
		return line{}, false
	}
	delete(a.open, r.stream)
	return *l, true
}

// flush returns the unfinished lines, oldest first, and forgets them.
func (a *assembler) flush() []line {
	var out []line
	for _, l := range a.open {
		out = append(out, *l)
	}
	clear(a.open)
	// Map order is random; keep output deterministic.
	slices.SortFunc(out, func(x, y line) int { return x.time.Compare(y.time) })
	return out
}
