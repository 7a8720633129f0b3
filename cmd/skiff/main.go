// Command skiff is a single-binary, Kubernetes-compatible container
// orchestrator.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/skiff-io/skiff/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := cli.NewRoot().ExecuteContext(ctx); err != nil {
		slog.Error("skiff failed", "err", err)
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
