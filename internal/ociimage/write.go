package ociimage

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Write writes one OCI image-layout archive holding imgs to w.
//
// Every image becomes one manifest in index.json, in the order given, named
// by its Ref through both the org.opencontainers.image.ref.name and the
// io.containerd.image.name annotation. Each image has exactly one layer
// built from its Files (see File for the rules; missing parent directories
// are added). Identical blobs are stored once. At least one image is
// required, and references must be distinct and carry a tag.
//
// The output depends only on imgs (and the compress/gzip implementation of
// the Go release), so equal input gives byte-identical archives.
func Write(w io.Writer, imgs ...Image) error {
	if len(imgs) == 0 {
		return fmt.Errorf("no images to write")
	}
	blobs := newBlobSet()
	index := imageIndex{SchemaVersion: 2, MediaType: MediaTypeIndex}
	seen := make(map[string]bool, len(imgs))
	for _, img := range imgs {
		if seen[img.Ref] {
			return fmt.Errorf("image %q listed twice", img.Ref)
		}
		seen[img.Ref] = true
		desc, err := addImage(blobs, img)
		if err != nil {
			return fmt.Errorf("image %q: %w", img.Ref, err)
		}
		index.Manifests = append(index.Manifests, desc)
	}
	layout, err := json.Marshal(imageLayout{Version: layoutVersion})
	if err != nil {
		return fmt.Errorf("encoding %s: %w", layoutFile, err)
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", indexFile, err)
	}
	return writeArchive(w, layout, indexJSON, blobs)
}

// addImage stores img's layer, config and manifest in blobs and returns the
// index.json descriptor of the manifest.
func addImage(blobs *blobSet, img Image) (descriptor, error) {
	if err := validateRef(img.Ref); err != nil {
		return descriptor{}, err
	}
	files, err := normalizeFiles(img.Files)
	if err != nil {
		return descriptor{}, err
	}
	layerDesc, diffID, err := blobs.addLayer(files)
	if err != nil {
		return descriptor{}, err
	}
	arch := img.Architecture
	if arch == "" {
		arch = DefaultArchitecture
	}
	cfg := imageConfig{
		Created:      epoch().Format("2006-01-02T15:04:05Z"),
		Architecture: arch,
		OS:           "linux",
		Config:       containerConfigOf(img.Config),
		RootFS:       rootFS{Type: "layers", DiffIDs: []string{diffID}},
		History:      []history{{Created: epoch().Format("2006-01-02T15:04:05Z"), CreatedBy: "skiff ociimage"}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return descriptor{}, fmt.Errorf("encoding image config: %w", err)
	}
	m := imageManifest{
		SchemaVersion: 2,
		MediaType:     MediaTypeManifest,
		Config:        blobs.add(MediaTypeConfig, cfgJSON),
		Layers:        []descriptor{layerDesc},
	}
	manifestJSON, err := json.Marshal(m)
	if err != nil {
		return descriptor{}, fmt.Errorf("encoding manifest: %w", err)
	}
	desc := blobs.add(MediaTypeManifest, manifestJSON)
	desc.Annotations = map[string]string{
		AnnotationRefName:             img.Ref,
		AnnotationContainerdImageName: img.Ref,
	}
	desc.Platform = &platform{Architecture: arch, OS: "linux"}
	return desc, nil
}

// containerConfigOf converts the public Config to its JSON form.
func containerConfigOf(c Config) containerConfig {
	out := containerConfig{
		User:       c.User,
		Env:        c.Env,
		Entrypoint: c.Entrypoint,
		Cmd:        c.Cmd,
		WorkingDir: c.WorkingDir,
		Labels:     c.Labels,
		StopSignal: c.StopSignal,
	}
	if len(c.ExposedPorts) > 0 {
		out.ExposedPorts = make(map[string]struct{}, len(c.ExposedPorts))
		for _, p := range c.ExposedPorts {
			out.ExposedPorts[p] = struct{}{}
		}
	}
	return out
}

// blobSet is the content-addressed blobs of an archive being written.
type blobSet struct {
	data map[string][]byte
	// layers maps a layer's diff_id to its compressed blob's descriptor,
	// so a layer shared by several images is compressed once.
	layers map[string]descriptor
}

func newBlobSet() *blobSet {
	return &blobSet{data: map[string][]byte{}, layers: map[string]descriptor{}}
}

// addLayer stores the gzip-compressed layer of files (already normalized)
// and returns its descriptor and diff_id.
func (s *blobSet) addLayer(files []File) (descriptor, string, error) {
	raw, err := layerTar(files)
	if err != nil {
		return descriptor{}, "", err
	}
	diffID := digestOf(raw)
	if desc, ok := s.layers[diffID]; ok {
		return desc, diffID, nil
	}
	blob, err := compress(raw)
	if err != nil {
		return descriptor{}, "", err
	}
	desc := s.add(MediaTypeLayerGzip, blob)
	s.layers[diffID] = desc
	return desc, diffID, nil
}

// add stores b (once per digest) and returns its descriptor.
func (s *blobSet) add(mediaType string, b []byte) descriptor {
	d := digestOf(b)
	s.data[d] = b
	return descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

// writeArchive writes the layout file, the blobs sorted by digest and
// index.json as one tar stream.
func writeArchive(w io.Writer, layout, index []byte, blobs *blobSet) error {
	tw := tar.NewWriter(w)
	for _, dir := range []string{"blobs/", blobDir} {
		h := &tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch()}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
	}
	if err := writeRegular(tw, layoutFile, layout); err != nil {
		return err
	}
	for _, d := range slices.Sorted(maps.Keys(blobs.data)) {
		name := blobDir + strings.TrimPrefix(d, "sha256:")
		if err := writeRegular(tw, name, blobs.data[d]); err != nil {
			return err
		}
	}
	if err := writeRegular(tw, indexFile, index); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finishing archive: %w", err)
	}
	return nil
}

// writeRegular writes one regular file entry of the archive.
func writeRegular(tw *tar.Writer, name string, data []byte) error {
	h := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), ModTime: epoch()}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
