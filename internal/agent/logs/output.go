package logs

import (
	"fmt"
	"io"
	"time"
)

// emitter writes lines to the client, applying the skip count of a tail
// request, the since filter, timestamp prefixes and the byte limit.
type emitter struct {
	w          io.Writer
	skip       int64
	since      *time.Time
	timestamps bool
	// remaining is the byte budget left; negative means unlimited.
	remaining int64
}

// newEmitter returns the emitter for opts writing to w, first dropping skip
// complete lines.
func newEmitter(w io.Writer, opts Options, skip int64) *emitter {
	e := &emitter{w: w, skip: skip, since: opts.SinceTime, timestamps: opts.Timestamps, remaining: -1}
	if opts.LimitBytes != nil {
		e.remaining = max(*opts.LimitBytes, 0)
	}
	return e
}

// exhausted reports whether the byte limit has been reached.
func (e *emitter) exhausted() bool { return e.remaining == 0 }

// emit writes one line (complete unless final is set: final lines are the
// unfinished rest of a stream and are never skipped). It reports whether the
// byte limit is now reached.
func (e *emitter) emit(l line, final bool) (bool, error) {
	if e.exhausted() {
		return true, nil
	}
	if !final && e.skip > 0 {
		e.skip--
		return false, nil
	}
	if e.since != nil && l.time.Before(*e.since) {
		return false, nil
	}
	out := l.content
	if e.timestamps {
		out = append([]byte(l.time.Format(time.RFC3339Nano)+" "), out...)
	}
	if e.remaining >= 0 && int64(len(out)) > e.remaining {
		out = out[:e.remaining]
	}
	n, err := e.w.Write(out)
	if e.remaining >= 0 {
		e.remaining -= int64(n)
	}
	if err != nil {
		return false, fmt.Errorf("write log line: %w", err)
	}
	return e.exhausted(), nil
}
