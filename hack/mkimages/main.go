// Command mkimages builds Skiff's own container images from source and
// writes them as OCI image archives, ready for `ctr images import`:
//
//	go run ./hack/mkimages -out bin/images
//
// writes into the -out directory:
//
//	pause.tar    skiff.local/pause:1.0    the pod sandbox program (images/pause)
//	busybox.tar  skiff.local/busybox:1.36 the host's /bin/busybox with one
//	                                      /bin symlink per applet
//	echo.tar     skiff.local/echo:1.0 and skiff.local/echo:2.0, the echo
//	             server (images/echo) with VERSION=1.0 / VERSION=2.0
//	kubectl.tar  skiff.local/kubectl:1.32 the busybox image plus the host's
//	                                      kubectl (-kubectl) in /usr/local/bin
//
// kubectl.tar is written only when -kubectl names a kubectl (a path or a
// command in PATH; symbolic links are followed to the real, statically
// linked binary); its tag stays 1.32 whatever release that is.
// The busybox image copies the statically linked busybox of Debian's
// busybox-static package; its tag stays 1.36 whatever version the host
// ships. Binaries are built with CGO_ENABLED=0, -trimpath, -buildvcs=false
// and -ldflags "-s -w", and archives are deterministic, so rebuilding from
// the same sources with the same Go release gives the same image digests.
// Everything is rebuilt on each run; it takes a few seconds.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/skiff-io/skiff/internal/ociimage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, log, os.Args[1:]); err != nil {
		log.Error("mkimages failed", "err", err)
		stop()
		os.Exit(1)
	}
}

// options are the command-line settings.
type options struct {
	outDir  string
	busybox string
	kubectl string
	goCmd   string
	arch    string
}

func parseFlags(args []string) (options, error) {
	var o options
	flags := flag.NewFlagSet("mkimages", flag.ContinueOnError)
	flags.StringVar(&o.outDir, "out", "bin/images", "directory to write the image archives into")
	flags.StringVar(&o.busybox, "busybox", "/bin/busybox", "static busybox binary to package (Debian package busybox-static)")
	flags.StringVar(&o.kubectl, "kubectl", "", "kubectl to package as "+kubectlRef+" (path or command name); empty skips kubectl.tar")
	flags.StringVar(&o.goCmd, "go", "go", "go command used to build the binaries")
	flags.StringVar(&o.arch, "arch", runtime.GOARCH, "GOARCH to build for and record in the images")
	if err := flags.Parse(args); err != nil {
		return options{}, fmt.Errorf("parsing flags: %w", err)
	}
	if flags.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	return o, nil
}

func run(ctx context.Context, log *slog.Logger, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	bb, err := readBusybox(ctx, o.busybox)
	if err != nil {
		return err
	}
	var kubectl []byte
	if o.kubectl == "" {
		log.Info("no -kubectl given (kubectl not installed?): skipping kubectl.tar", "ref", kubectlRef)
	} else if kubectl, err = readKubectl(o.kubectl); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "mkimages-")
	if err != nil {
		return fmt.Errorf("creating build directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	bins, err := buildBinaries(ctx, o.goCmd, o.arch, tmp)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return fmt.Errorf("creating output directory: %w", err)
	}
	for _, a := range plan(bins, bb, kubectl, o.arch) {
		path := filepath.Join(o.outDir, a.name)
		if err := writeArchiveFile(path, a.images); err != nil {
			return err
		}
		refs := make([]string, len(a.images))
		for i, img := range a.images {
			refs[i] = img.Ref
		}
		log.Info("wrote image archive", "file", path, "refs", refs)
	}
	return nil
}

// writeArchiveFile writes imgs to path atomically: into a temporary file in
// the same directory that is renamed over path once complete.
func writeArchiveFile(path string, imgs []ociimage.Image) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer func() { _ = os.Remove(f.Name()) }() // fails harmlessly after the rename
	w := bufio.NewWriter(f)
	if err := ociimage.Write(w, imgs...); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("installing %s: %w", path, err)
	}
	return nil
}
