package logs

import (
	"bytes"
	"fmt"
	"io"
)

// rawRecord is the position and the parts of a record that tail needs.
type rawRecord struct {
	offset  int64
	stream  string
	partial bool
	// invalid marks a line that does not parse; reading skips it, so it
	// neither counts as a line nor continues one.
	invalid bool
}

// tailStart decides where reading must begin to produce the last n complete
// lines of recs (records in file order, ending at end). It returns the offset
// to start at and how many complete lines reading from there produces before
// the wanted ones (they must be skipped: lines of another stream can share
// the region a long partial line spans). ok is false when recs do not reach
// back far enough to decide. A line is known to begin at a record only once
// the previous record of its stream is seen to end a line, so a stream that
// wrote rarely can make the search reach back to the start of the file.
func tailStart(recs []rawRecord, end int64, n int64) (offset int64, skip int64, ok bool) {
	if n <= 0 {
		return end, 0, true
	}
	var complete, older int64
	open := map[string]bool{} // streams whose earliest seen line has not begun yet
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.invalid {
			continue
		}
		if !r.partial && complete == n {
			// r ends a line older than the wanted ones; the open line of its
			// stream, if any, begins right after it.
			delete(open, r.stream)
			if len(open) == 0 {
				return recs[i+1].offset, older, true
			}
			older++
			continue
		}
		if !r.partial {
			complete++
		}
		open[r.stream] = true
	}
	return 0, older, false
}

// splitRecords lists the records in buf, which holds the file from offset
// base. When base is not the file's start, the first (possibly cut) record is
// dropped.
func splitRecords(buf []byte, base int64) []rawRecord {
	pos := 0
	if base > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return nil
		}
		pos = i + 1
	}
	var out []rawRecord
	for pos < len(buf) {
		next := len(buf)
		if i := bytes.IndexByte(buf[pos:], '\n'); i >= 0 {
			next = pos + i + 1
		}
		r := rawRecord{offset: base + int64(pos), invalid: true}
		if rec, err := parseRecord(buf[pos:next]); err == nil {
			r = rawRecord{offset: r.offset, stream: rec.stream, partial: rec.partial}
		}
		out = append(out, r)
		pos = next
	}
	return out
}

// tailWindow is the first amount of the file, from its end, read to find the
// tail; it grows fourfold until enough records are seen.
const tailWindow = 64 << 10

// findTail returns where to start reading f (of the given size) to show its
// last n lines, and how many complete lines to skip from there.
func findTail(f io.ReaderAt, size int64, n int64) (offset int64, skip int64, err error) {
	if n <= 0 {
		return size, 0, nil
	}
	for window := int64(tailWindow); ; window *= 4 {
		start := max(0, size-window)
		buf := make([]byte, size-start)
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return 0, 0, fmt.Errorf("read log tail: %w", err)
		}
		offset, skip, ok := tailStart(splitRecords(buf, start), size, n)
		if ok || start == 0 {
			return offset, skip, nil
		}
	}
}
