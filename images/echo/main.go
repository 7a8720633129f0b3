// Command echo is a small HTTP server for Skiff's tests and demos. It
// listens on -listen, or else on :$PORT (PORT defaults to 8080), and serves:
//
//	/          (any path not below) plain text, one key=value per line:
//	           hostname, method, path, version ($VERSION), client (the
//	           peer address) and message ($MESSAGE, only when set)
//	/healthz   200 "ok", or 500 once /fail has been requested
//	/fail      makes /healthz fail from now on (for liveness probe tests)
//	/env       the process environment, sorted, one NAME=value per line
//	/exit?code=N  answers, then exits the process with status N (0-255,
//	           default 0)
//
// SIGTERM or SIGINT shut it down gracefully: in-flight requests finish and
// it exits 0. It uses only the standard library and builds as a static
// binary with CGO_ENABLED=0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// shutdownGrace bounds how long in-flight requests may take after SIGTERM.
const shutdownGrace = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args, serves until ctx is done and returns the exit status.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	flags := flag.NewFlagSet("echo", flag.ContinueOnError)
	flags.SetOutput(stderr)
	listen := flags.String("listen", "", "address to listen on (default \":$PORT\", PORT defaulting to 8080)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	hostname, err := os.Hostname()
	if err != nil {
		log.Error("reading hostname", "err", err)
		return 1
	}
	addr := listenAddress(*listen, os.Getenv("PORT"))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("listening", "addr", addr, "err", err)
		return 1
	}
	s := &server{
		hostname: hostname,
		getenv:   os.Getenv,
		environ:  os.Environ,
		exit:     os.Exit,
		log:      log,
	}
	log.Info("echo server listening", "addr", ln.Addr().String(), "hostname", hostname, "version", os.Getenv("VERSION"))
	if err := serve(ctx, ln, s.handler()); err != nil {
		log.Error("serving", "err", err)
		return 1
	}
	log.Info("echo server stopped")
	return 0
}

// listenAddress is the address to listen on: the -listen flag if given,
// else ":"+port, with port defaulting to 8080.
func listenAddress(flagValue, port string) string {
	if flagValue != "" {
		return flagValue
	}
	if port == "" {
		port = "8080"
	}
	return ":" + port
}

// serve answers requests on ln with h until ctx is done, then shuts down
// gracefully and returns nil; it returns an error if serving fails first.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}
