package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"time"
)

// epoch is the modification time of every tar entry and the creation time
// recorded in image configs, so output does not depend on when it was made.
func epoch() time.Time { return time.Unix(0, 0).UTC() }

// layerTar writes files (already normalized) as an uncompressed tar.
func layerTar(files []File) ([]byte, error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, f := range files {
		if err := writeEntry(tw, f); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing layer tar: %w", err)
	}
	return raw.Bytes(), nil
}

// compress gzips a layer tar; the gzip header carries no name or time.
func compress(raw []byte) ([]byte, error) {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("creating gzip writer: %w", err)
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("compressing layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compressing layer: %w", err)
	}
	return gz.Bytes(), nil
}

// writeEntry writes one normalized file as a tar entry owned by root with
// the fixed timestamp.
func writeEntry(tw *tar.Writer, f File) error {
	h := &tar.Header{
		Name:    f.Path,
		Mode:    tarMode(f.Mode),
		ModTime: epoch(),
		Format:  tar.FormatPAX,
	}
	switch {
	case f.Dir:
		h.Typeflag = tar.TypeDir
		h.Name += "/"
	case f.Link != "":
		h.Typeflag = tar.TypeSymlink
		h.Linkname = f.Link
	default:
		h.Typeflag = tar.TypeReg
		h.Size = int64(len(f.Data))
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("writing header: %w", err)
	}
	if h.Typeflag == tar.TypeReg {
		if _, err := tw.Write(f.Data); err != nil {
			return fmt.Errorf("writing data: %w", err)
		}
	}
	return nil
}

// Unix mode bits tar uses for the special permission flags.
const (
	tarSetuid = 0o4000
	tarSetgid = 0o2000
	tarSticky = 0o1000
)

// tarMode converts a File mode to the Unix mode bits of a tar header.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= tarSetuid
	}
	if m&fs.ModeSetgid != 0 {
		mode |= tarSetgid
	}
	if m&fs.ModeSticky != 0 {
		mode |= tarSticky
	}
	return mode
}

// fileMode converts tar header mode bits back to a File mode.
func fileMode(mode int64) fs.FileMode {
	m := fs.FileMode(mode) & fs.ModePerm
	if mode&tarSetuid != 0 {
		m |= fs.ModeSetuid
	}
	if mode&tarSetgid != 0 {
		m |= fs.ModeSetgid
	}
	if mode&tarSticky != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// digestOf returns the "sha256:<hex>" digest of b.
func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
