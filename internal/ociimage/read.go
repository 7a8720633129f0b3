package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
)

// Read parses an OCI image-layout archive and returns its images in
// index.json order, checking every blob against its digest and size and
// every layer against the config's diff_ids. It understands what Write
// produces: manifests listed directly in index.json, gzip or uncompressed
// layers, regular files, directories and symbolic links. Files are returned
// in layer order with paths in their relative, cleaned form ("bin/sh");
// entries of later layers follow those of earlier ones (whiteouts are not
// interpreted). Ref is taken from io.containerd.image.name, or else from
// org.opencontainers.image.ref.name.
func Read(r io.Reader) ([]Image, error) {
	entries, err := readTar(r)
	if err != nil {
		return nil, err
	}
	if err := checkLayout(entries[layoutFile]); err != nil {
		return nil, err
	}
	indexJSON, ok := entries[indexFile]
	if !ok {
		return nil, fmt.Errorf("archive has no %s", indexFile)
	}
	var index imageIndex
	if err := json.Unmarshal(indexJSON, &index); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", indexFile, err)
	}
	if index.SchemaVersion != 2 {
		return nil, fmt.Errorf("%s: schemaVersion %d, want 2", indexFile, index.SchemaVersion)
	}
	imgs := make([]Image, 0, len(index.Manifests))
	for i, desc := range index.Manifests {
		img, err := readImage(entries, desc)
		if err != nil {
			return nil, fmt.Errorf("%s manifest %d: %w", indexFile, i, err)
		}
		imgs = append(imgs, img)
	}
	return imgs, nil
}

// readTar loads every regular file of the archive into memory by name.
func readTar(r io.Reader) (map[string][]byte, error) {
	entries := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading archive entry %s: %w", h.Name, err)
		}
		entries[path.Clean(h.Name)] = data
	}
}

// checkLayout validates the oci-layout file.
func checkLayout(data []byte) error {
	if data == nil {
		return fmt.Errorf("archive has no %s file", layoutFile)
	}
	var l imageLayout
	if err := json.Unmarshal(data, &l); err != nil {
		return fmt.Errorf("decoding %s: %w", layoutFile, err)
	}
	if l.Version != layoutVersion {
		return fmt.Errorf("%s: imageLayoutVersion %q, want %q", layoutFile, l.Version, layoutVersion)
	}
	return nil
}

// readImage resolves one manifest descriptor into an Image.
func readImage(entries map[string][]byte, desc descriptor) (Image, error) {
	img := Image{Ref: desc.Annotations[AnnotationContainerdImageName]}
	if img.Ref == "" {
		img.Ref = desc.Annotations[AnnotationRefName]
	}
	if desc.MediaType != MediaTypeManifest {
		return Image{}, fmt.Errorf("media type %q, want %q", desc.MediaType, MediaTypeManifest)
	}
	var m imageManifest
	if err := readJSONBlob(entries, desc, &m); err != nil {
		return Image{}, err
	}
	if m.Config.MediaType != MediaTypeConfig {
		return Image{}, fmt.Errorf("config media type %q, want %q", m.Config.MediaType, MediaTypeConfig)
	}
	var cfg imageConfig
	if err := readJSONBlob(entries, m.Config, &cfg); err != nil {
		return Image{}, err
	}
	if cfg.OS != "linux" {
		return Image{}, fmt.Errorf("config os %q, want linux", cfg.OS)
	}
	if desc.Platform != nil && (desc.Platform.Architecture != cfg.Architecture || desc.Platform.OS != cfg.OS) {
		return Image{}, fmt.Errorf("index platform %s/%s does not match config %s/%s",
			desc.Platform.OS, desc.Platform.Architecture, cfg.OS, cfg.Architecture)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return Image{}, fmt.Errorf("config lists %d diff_ids for %d layers", len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	img.Architecture = cfg.Architecture
	img.Config = configOf(cfg.Config)
	for i, ld := range m.Layers {
		files, err := readLayer(entries, ld, cfg.RootFS.DiffIDs[i])
		if err != nil {
			return Image{}, fmt.Errorf("layer %d: %w", i, err)
		}
		img.Files = append(img.Files, files...)
	}
	return img, nil
}

// configOf converts the JSON container config to the public Config.
func configOf(c containerConfig) Config {
	out := Config{
		User:       c.User,
		Env:        c.Env,
		Entrypoint: c.Entrypoint,
		Cmd:        c.Cmd,
		WorkingDir: c.WorkingDir,
		Labels:     c.Labels,
		StopSignal: c.StopSignal,
	}
	if len(c.ExposedPorts) > 0 {
		out.ExposedPorts = slices.Sorted(maps.Keys(c.ExposedPorts))
	}
	return out
}

// blob returns the verified content of the blob desc points at.
func blob(entries map[string][]byte, desc descriptor) ([]byte, error) {
	hex, ok := strings.CutPrefix(desc.Digest, "sha256:")
	if !ok {
		return nil, fmt.Errorf("unsupported digest %q", desc.Digest)
	}
	data, ok := entries[blobDir+hex]
	if !ok {
		return nil, fmt.Errorf("blob %s missing", desc.Digest)
	}
	if got := digestOf(data); got != desc.Digest {
		return nil, fmt.Errorf("blob %s has digest %s", desc.Digest, got)
	}
	if int64(len(data)) != desc.Size {
		return nil, fmt.Errorf("blob %s has size %d, descriptor says %d", desc.Digest, len(data), desc.Size)
	}
	return data, nil
}

// readJSONBlob decodes the verified blob desc points at into v.
func readJSONBlob(entries map[string][]byte, desc descriptor, v any) error {
	data, err := blob(entries, desc)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %s (%s): %w", desc.Digest, desc.MediaType, err)
	}
	return nil
}

// readLayer decompresses a layer, checks it against diffID and lists its
// entries as Files.
func readLayer(entries map[string][]byte, desc descriptor, diffID string) ([]File, error) {
	data, err := blob(entries, desc)
	if err != nil {
		return nil, err
	}
	switch desc.MediaType {
	case MediaTypeLayer:
	case MediaTypeLayerGzip:
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("decompressing %s: %w", desc.Digest, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("decompressing %s: %w", desc.Digest, err)
		}
	default:
		return nil, fmt.Errorf("unsupported layer media type %q", desc.MediaType)
	}
	if got := digestOf(data); got != diffID {
		return nil, fmt.Errorf("uncompressed layer has digest %s, diff_id says %s", got, diffID)
	}
	return layerFiles(data)
}

// layerFiles lists the entries of an uncompressed layer tar.
func layerFiles(data []byte) ([]File, error) {
	var files []File
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading layer: %w", err)
		}
		f := File{Path: strings.TrimPrefix(path.Clean("/"+h.Name), "/"), Mode: fileMode(h.Mode)}
		switch h.Typeflag {
		case tar.TypeDir:
			f.Dir = true
		case tar.TypeSymlink:
			f.Link = h.Linkname
		case tar.TypeReg:
			if f.Data, err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("reading layer entry %s: %w", h.Name, err)
			}
		default:
			return nil, fmt.Errorf("layer entry %s: unsupported type %q", h.Name, h.Typeflag)
		}
		files = append(files, f)
	}
}
