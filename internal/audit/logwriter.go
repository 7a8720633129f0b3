package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// LogConfig configures a LogWriter. Zero values mean what Kubernetes'
// --audit-log-max* flags mean by 0, except MaxSizeMB (0 = 100).
type LogConfig struct {
	// Path is the log file; "-" writes to standard output (no rotation).
	Path string
	// MaxSizeMB is the size in megabytes at which the file is rotated;
	// 0 means 100.
	MaxSizeMB int
	// MaxBackups is how many rotated files are kept; 0 keeps all.
	MaxBackups int
	// MaxAgeDays removes rotated files older than this many days; 0 keeps
	// them whatever their age.
	MaxAgeDays int
	// QueueSize is how many events may wait for the disk; 0 means 10000.
	QueueSize int
	// Logger reports dropped events and write errors; default
	// slog.Default().
	Logger *slog.Logger

	maxSizeBytes   int64         // tests: overrides MaxSizeMB
	enqueueTimeout time.Duration // tests: overrides defaultEnqueueTimeout
	stdout         io.Writer     // tests: replaces os.Stdout
}

// defaultEnqueueTimeout is how long a request waits for room in a full
// queue before its event is dropped. Kubernetes' blocking mode waits
// forever, which turns a stalled disk into a stalled API server; a short
// wait still absorbs bursts.
const defaultEnqueueTimeout = 500 * time.Millisecond

// dropLogInterval limits drop warnings to one per interval.
const dropLogInterval = 10 * time.Second

// lineSink is where the LogWriter's goroutine writes: a rotator or
// standard output.
type lineSink interface {
	write(p []byte) error
	flush() error
	close() error
}

// LogWriter is the audit log backend: a Sink whose Process encodes the
// event and queues it, and whose Run goroutine appends the queued lines to
// the file. Requests never wait on the disk, only (briefly) on a full
// queue; events that still do not fit are dropped, counted and reported.
type LogWriter struct {
	out     lineSink
	queue   chan []byte
	timeout time.Duration
	log     *slog.Logger

	// sealMu lets Run wait for in-flight Process calls before the final
	// drain, so no event is queued after it.
	sealMu sync.RWMutex
	sealed bool

	dropped      atomic.Uint64
	lastDropWarn atomic.Int64 // unix nanoseconds
}

// NewLogWriter opens (creating with mode 0600, its directory 0700) the log
// file, so that a bad path fails at startup. Call Run to write.
func NewLogWriter(cfg LogConfig) (*LogWriter, error) {
	w := &LogWriter{timeout: cfg.enqueueTimeout, log: cfg.Logger}
	if w.timeout <= 0 {
		w.timeout = defaultEnqueueTimeout
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	size := cfg.QueueSize
	if size <= 0 {
		size = 10000
	}
	w.queue = make(chan []byte, size)
	switch cfg.Path {
	case "":
		return nil, errors.New("audit log: no path")
	case "-":
		out := cfg.stdout
		if out == nil {
			out = os.Stdout
		}
		w.out = &streamSink{buf: bufio.NewWriter(out)}
	default:
		maxSize := cfg.maxSizeBytes
		if maxSize <= 0 {
			mb := cfg.MaxSizeMB
			if mb <= 0 {
				mb = 100
			}
			maxSize = int64(mb) << 20
		}
		rot, err := openRotator(cfg.Path, maxSize, cfg.MaxBackups, time.Duration(cfg.MaxAgeDays)*24*time.Hour, time.Now)
		if err != nil {
			return nil, err
		}
		w.out = rot
	}
	return w, nil
}

// Process implements Sink: it encodes ev as one JSON line and queues it,
// waiting at most a short time when the queue is full. After Run has
// returned, events are dropped.
func (w *LogWriter) Process(ev *Event) {
	line, err := encodeEvent(ev)
	if err != nil {
		w.drop("encoding failed", err)
		return
	}
	w.sealMu.RLock()
	defer w.sealMu.RUnlock()
	if w.sealed {
		w.drop("audit log closed", nil)
		return
	}
	select {
	case w.queue <- line:
		return
	default:
	}
	timer := time.NewTimer(w.timeout)
	defer timer.Stop()
	select {
	case w.queue <- line:
	case <-timer.C:
		w.drop("queue full", nil)
	}
}

// Dropped is how many events were lost (full queue, closed log, encoding
// or write errors) since the writer was made.
func (w *LogWriter) Dropped() uint64 { return w.dropped.Load() }

func (w *LogWriter) drop(reason string, err error) {
	total := w.dropped.Add(1)
	now := time.Now().UnixNano()
	last := w.lastDropWarn.Load()
	if now-last < int64(dropLogInterval) || !w.lastDropWarn.CompareAndSwap(last, now) {
		return
	}
	if err != nil {
		w.log.Warn("audit: dropping events", "reason", reason, "err", err, "droppedTotal", total)
		return
	}
	w.log.Warn("audit: dropping events", "reason", reason, "droppedTotal", total)
}

// Run writes queued events until ctx ends, then writes those already
// queued or being queued, flushes and closes the file. Call it once.
func (w *LogWriter) Run(ctx context.Context) error {
	for {
		select {
		case line := <-w.queue:
			w.write(line)
		case <-ctx.Done():
			return w.shutdown()
		}
	}
}

func (w *LogWriter) write(line []byte) {
	if err := w.out.write(line); err != nil {
		w.drop("write failed", err)
	}
	// Flush when idle: one syscall per burst rather than per event, and
	// nothing left in memory while the server is quiet.
	if len(w.queue) == 0 {
		if err := w.out.flush(); err != nil {
			w.log.Warn("audit: flushing log", "err", err)
		}
	}
}

func (w *LogWriter) shutdown() error {
	// Keep draining while Process calls blocked on the full queue finish;
	// once sealed, nothing more can be queued.
	sealed := make(chan struct{})
	go func() {
		w.sealMu.Lock()
		w.sealed = true
		w.sealMu.Unlock()
		close(sealed)
	}()
	for {
		select {
		case line := <-w.queue:
			w.write(line)
		case <-sealed:
			for {
				select {
				case line := <-w.queue:
					w.write(line)
				default:
					if err := w.out.close(); err != nil {
						return fmt.Errorf("closing audit log: %w", err)
					}
					return nil
				}
			}
		}
	}
}

// encodeEvent is ev as one JSON line. HTML characters are kept as they
// are ("<" rather than "\u003c"): the log is read by people and tools, not
// embedded in pages.
func encodeEvent(ev *Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, fmt.Errorf("encoding audit event: %w", err)
	}
	return buf.Bytes(), nil
}

// streamSink writes to standard output; closing only flushes.
type streamSink struct{ buf *bufio.Writer }

func (s *streamSink) write(p []byte) error {
	if _, err := s.buf.Write(p); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

func (s *streamSink) flush() error {
	if err := s.buf.Flush(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

func (s *streamSink) close() error { return s.flush() }
