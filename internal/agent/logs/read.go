package logs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Options select what Read writes; they mirror the pod log API's options.
type Options struct {
	// Follow keeps reading as the container writes more.
	Follow bool
	// TailLines, when set, starts at the last that many complete lines
	// (partial records joined into their line count once).
	TailLines *int64
	// SinceTime, when set, drops lines written before it.
	SinceTime *time.Time
	// Timestamps prefixes each line with its RFC3339Nano time and a space.
	Timestamps bool
	// LimitBytes, when set, stops after that many bytes of output; the last
	// line may be cut.
	LimitBytes *int64
}

// pollInterval is how often a followed log is checked for new data.
const pollInterval = 150 * time.Millisecond

// Read writes the log at path to w according to opts. stdout and stderr are
// interleaved in file order; partial records are joined into their line.
// Without Follow it returns at the end of the file. With Follow it keeps
// polling for new data, reopening the path when the file is replaced
// (rotation) and restarting from the top when it is truncated, until ctx
// ends (returning ctx's error) or stillRunning reports false and the rest of
// the file has been written (returning nil); a nil stillRunning means the
// container never stops by itself. It also returns nil once LimitBytes is
// reached.
func Read(ctx context.Context, path string, opts Options, w io.Writer, stillRunning func() bool) error {
	return read(ctx, path, opts, w, stillRunning, pollInterval)
}

// read is Read with a configurable poll interval.
func read(ctx context.Context, path string, opts Options, w io.Writer, stillRunning func() bool, poll time.Duration) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	r := &reader{f: f, rd: bufio.NewReader(f)}
	defer func() { _ = r.f.Close() }()

	var skip int64
	if opts.TailLines != nil {
		info, err := f.Stat()
		if err != nil {
			return fmt.Errorf("stat container log: %w", err)
		}
		var off int64
		if off, skip, err = findTail(f, info.Size(), *opts.TailLines); err != nil {
			return err
		}
		if err := r.seek(off); err != nil {
			return err
		}
	}
	r.out = newEmitter(w, opts, skip)

	stopping := false
	for {
		if r.out.exhausted() {
			return nil
		}
		if done, err := r.pump(); done || err != nil {
			return err
		}
		if !opts.Follow || stopping {
			return r.finish()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if stillRunning != nil && !stillRunning() {
			// Read once more: the container may have written its last
			// lines after the end was reached.
			stopping = true
			continue
		}
		if switched, err := r.followPath(path); err != nil || switched {
			if err != nil {
				return err
			}
			continue
		}
		if err := sleep(ctx, poll); err != nil {
			return err
		}
	}
}

// reader holds the open log file and the decoding state.
type reader struct {
	f     *os.File
	rd    *bufio.Reader
	pos   int64
	carry []byte
	asm   assembler
	out   *emitter
}

// seek moves to off and drops buffered data.
func (r *reader) seek(off int64) error {
	if _, err := r.f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("seek container log: %w", err)
	}
	r.rd.Reset(r.f)
	r.pos, r.carry = off, r.carry[:0]
	return nil
}

// pump decodes and writes every complete record up to the end of the file.
// An incomplete last record stays in carry. done reports the byte limit was
// reached.
func (r *reader) pump() (done bool, err error) {
	for {
		chunk, err := r.rd.ReadBytes('\n')
		r.pos += int64(len(chunk))
		r.carry = append(r.carry, chunk...)
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read container log: %w", err)
		}
		done, err := r.record(r.carry)
		r.carry = r.carry[:0]
		if done || err != nil {
			return done, err
		}
	}
}

// record handles one raw record; records that do not parse are skipped.
func (r *reader) record(raw []byte) (bool, error) {
	rec, err := parseRecord(raw)
	if err != nil {
		return false, nil
	}
	l, ok := r.asm.add(rec)
	if !ok {
		return false, nil
	}
	return r.out.emit(l, false)
}

// finish writes what is left at the end: an unterminated last record and
// lines still waiting for their final record.
func (r *reader) finish() error {
	if len(r.carry) > 0 {
		done, err := r.record(r.carry)
		r.carry = r.carry[:0]
		if done || err != nil {
			return err
		}
	}
	for _, l := range r.asm.flush() {
		if done, err := r.out.emit(l, true); done || err != nil {
			return err
		}
	}
	return nil
}

// followPath checks whether path still names the open file. When it names a
// new file (rotation) the rest of the old file is written and the new one is
// opened from its start; when the open file shrank below the read position
// (truncation) reading restarts at its top. It reports whether it moved.
func (r *reader) followPath(path string) (bool, error) {
	info, err := os.Stat(path)
	if err != nil {
		// Mid-rotation the path may briefly not exist.
		return false, nil
	}
	cur, err := r.f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat container log: %w", err)
	}
	if os.SameFile(info, cur) {
		if info.Size() < r.pos {
			return true, r.seek(0)
		}
		return false, nil
	}
	if done, err := r.pump(); done || err != nil {
		return false, err
	}
	next, err := os.Open(path)
	if err != nil {
		return false, nil
	}
	_ = r.f.Close()
	r.f = next
	r.rd.Reset(next)
	r.pos, r.carry = 0, r.carry[:0]
	return true, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
