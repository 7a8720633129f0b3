package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// testImages returns the images the archive tests write: a busybox-like
// image and two echo-like images sharing one layer.
func testImages() []Image {
	echoFiles := []File{
		{Path: "/echo", Mode: 0o755, Data: []byte("\x7fELF echo")},
		{Path: "/etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\n")},
		{Path: "/tmp", Dir: true, Mode: fs.ModeSticky | 0o777},
	}
	echo := func(version string) Image {
		return Image{
			Ref:   "skiff.local/echo:" + version,
			Files: echoFiles,
			Config: Config{
				Entrypoint:   []string{"/echo"},
				Env:          []string{"PATH=/bin", "VERSION=" + version},
				ExposedPorts: []string{"8080/tcp"},
			},
		}
	}
	return []Image{
		{
			Ref:          "skiff.local/busybox:1.36",
			Architecture: "arm64",
			Files: []File{
				{Path: "/bin/busybox", Mode: 0o755, Data: []byte("\x7fELF busybox")},
				{Path: "/bin/sh", Link: "busybox"},
				{Path: "/etc/hosts"},
			},
			Config: Config{
				Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}, User: "0:0", WorkingDir: "/root",
				Labels: map[string]string{"a": "b"}, StopSignal: "SIGTERM",
			},
		},
		echo("1.0"),
		echo("2.0"),
	}
}

func writeArchiveBytes(t *testing.T, imgs ...Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, imgs...); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func TestWriteReadRoundTrip(t *testing.T) {
	all := testImages()
	tests := []struct {
		name string
		imgs []Image
	}{
		{name: "one image", imgs: all[:1]},
		{name: "two refs sharing a layer", imgs: all[1:]},
		{name: "all", imgs: all},
		{name: "empty filesystem", imgs: []Image{{Ref: "skiff.local/empty:0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(writeArchiveBytes(t, tt.imgs...)))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			want := make([]Image, len(tt.imgs))
			for i, img := range tt.imgs {
				files, err := normalizeFiles(img.Files)
				if err != nil {
					t.Fatal(err)
				}
				img.Files = files
				if img.Architecture == "" {
					img.Architecture = DefaultArchitecture
				}
				want[i] = img
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Read(Write()) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	first := writeArchiveBytes(t, testImages()...)
	second := writeArchiveBytes(t, testImages()...)
	if !bytes.Equal(first, second) {
		t.Fatal("writing the same images twice gave different archives")
	}
	changed := testImages()
	changed[0].Files[0].Data = []byte("other")
	if bytes.Equal(first, writeArchiveBytes(t, changed...)) {
		t.Fatal("changing a file did not change the archive")
	}
}

// TestArchiveLayout checks the raw archive against the OCI image layout as
// containerd's importer reads it.
func TestArchiveLayout(t *testing.T) {
	entries, headers := untar(t, writeArchiveBytes(t, testImages()...))

	if got, want := string(entries["oci-layout"]), `{"imageLayoutVersion":"1.0.0"}`; got != want {
		t.Errorf("oci-layout = %s, want %s", got, want)
	}
	for name, data := range entries {
		if hex, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && digestOf(data) != "sha256:"+hex {
			t.Errorf("blob %s has digest %s", name, digestOf(data))
		}
	}
	for name, h := range headers {
		if !h.ModTime.Equal(time.Unix(0, 0)) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("archive entry %s: mtime %v uid %d gid %d, want epoch and root", name, h.ModTime, h.Uid, h.Gid)
		}
	}

	var index imageIndex
	mustUnmarshal(t, entries["index.json"], &index)
	if index.SchemaVersion != 2 || index.MediaType != MediaTypeIndex {
		t.Errorf("index schemaVersion %d mediaType %q", index.SchemaVersion, index.MediaType)
	}
	wantRefs := []string{"skiff.local/busybox:1.36", "skiff.local/echo:1.0", "skiff.local/echo:2.0"}
	wantArch := []string{"arm64", "amd64", "amd64"}
	if len(index.Manifests) != len(wantRefs) {
		t.Fatalf("index lists %d manifests, want %d", len(index.Manifests), len(wantRefs))
	}
	layerDigests := map[string]string{}
	configDigests := map[string]bool{}
	for i, desc := range index.Manifests {
		ref := wantRefs[i]
		if desc.MediaType != MediaTypeManifest {
			t.Errorf("%s: manifest media type %q", ref, desc.MediaType)
		}
		for _, key := range []string{AnnotationRefName, AnnotationContainerdImageName} {
			if got := desc.Annotations[key]; got != ref {
				t.Errorf("manifest %d: annotation %s = %q, want %q", i, key, got, ref)
			}
		}
		if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != wantArch[i] {
			t.Errorf("%s: platform %+v, want linux/%s", ref, desc.Platform, wantArch[i])
		}
		var m imageManifest
		mustUnmarshal(t, blobOf(t, entries, desc), &m)
		if m.SchemaVersion != 2 || m.Config.MediaType != MediaTypeConfig || len(m.Layers) != 1 ||
			m.Layers[0].MediaType != MediaTypeLayerGzip {
			t.Fatalf("%s: unexpected manifest %+v", ref, m)
		}
		var cfg imageConfig
		mustUnmarshal(t, blobOf(t, entries, m.Config), &cfg)
		if cfg.OS != "linux" || cfg.Architecture != wantArch[i] || cfg.RootFS.Type != "layers" {
			t.Errorf("%s: config os %q arch %q rootfs type %q", ref, cfg.OS, cfg.Architecture, cfg.RootFS.Type)
		}
		raw := gunzip(t, blobOf(t, entries, m.Layers[0]))
		if want := []string{digestOf(raw)}; !cmp.Equal(cfg.RootFS.DiffIDs, want) {
			t.Errorf("%s: diff_ids %v, want %v", ref, cfg.RootFS.DiffIDs, want)
		}
		checkLayerHeaders(t, ref, raw)
		layerDigests[ref] = m.Layers[0].Digest
		configDigests[m.Config.Digest] = true
	}
	if layerDigests["skiff.local/echo:1.0"] != layerDigests["skiff.local/echo:2.0"] {
		t.Error("echo:1.0 and echo:2.0 should share their layer")
	}
	if len(configDigests) != 3 {
		t.Errorf("got %d distinct configs, want 3", len(configDigests))
	}
	// 3 manifests + 3 configs + 2 distinct layers.
	blobs := 0
	for name := range entries {
		if strings.HasPrefix(name, "blobs/sha256/") {
			blobs++
		}
	}
	if blobs != 8 {
		t.Errorf("archive holds %d blobs, want 8 (shared layer stored once)", blobs)
	}
}

// checkLayerHeaders checks that layer entries are root-owned, have the fixed
// time, and that directories end in "/".
func checkLayerHeaders(t *testing.T, ref string, raw []byte) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s: reading layer: %v", ref, err)
		}
		if !h.ModTime.Equal(time.Unix(0, 0)) || h.Uid != 0 || h.Gid != 0 || strings.HasPrefix(h.Name, "/") {
			t.Errorf("%s: layer entry %q mtime %v uid %d gid %d", ref, h.Name, h.ModTime, h.Uid, h.Gid)
		}
		if (h.Typeflag == tar.TypeDir) != strings.HasSuffix(h.Name, "/") {
			t.Errorf("%s: layer entry %q type %q", ref, h.Name, h.Typeflag)
		}
		if h.Name == "tmp/" && h.Mode != 0o1777 {
			t.Errorf("%s: tmp/ mode %o, want 1777", ref, h.Mode)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	ok := Image{Ref: "skiff.local/a:1"}
	tests := []struct {
		name    string
		imgs    []Image
		wantErr string
	}{
		{name: "no images", wantErr: "no images"},
		{name: "duplicate ref", imgs: []Image{ok, ok}, wantErr: "listed twice"},
		{name: "no tag", imgs: []Image{{Ref: "skiff.local/a"}}, wantErr: "no tag"},
		{name: "bad file", imgs: []Image{{Ref: "skiff.local/a:1", Files: []File{{Path: "/"}}}}, wantErr: "root directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, Write(io.Discard, tt.imgs...), tt.wantErr)
		})
	}
}

func TestReadRejectsDamage(t *testing.T) {
	good := writeArchiveBytes(t, testImages()[1])
	entries, _ := untar(t, good)
	var index imageIndex
	mustUnmarshal(t, entries["index.json"], &index)
	var m imageManifest
	mustUnmarshal(t, blobOf(t, entries, index.Manifests[0]), &m)
	blobName := func(d descriptor) string { return "blobs/sha256/" + strings.TrimPrefix(d.Digest, "sha256:") }

	tests := []struct {
		name    string
		damage  func(map[string][]byte)
		wantErr string
	}{
		{name: "intact"},
		{name: "no oci-layout", damage: func(e map[string][]byte) { delete(e, "oci-layout") }, wantErr: "no oci-layout"},
		{name: "wrong layout version", damage: func(e map[string][]byte) { e["oci-layout"] = []byte(`{"imageLayoutVersion":"2"}`) }, wantErr: "imageLayoutVersion"},
		{name: "no index", damage: func(e map[string][]byte) { delete(e, "index.json") }, wantErr: "no index.json"},
		{name: "manifest missing", damage: func(e map[string][]byte) { delete(e, blobName(index.Manifests[0])) }, wantErr: "missing"},
		{name: "layer altered", damage: func(e map[string][]byte) { e[blobName(m.Layers[0])][20] ^= 0xff }, wantErr: "has digest"},
		{name: "config missing", damage: func(e map[string][]byte) { delete(e, blobName(m.Config)) }, wantErr: "missing"},
		{
			name: "index size wrong",
			damage: func(e map[string][]byte) {
				var idx imageIndex
				mustUnmarshal(t, e["index.json"], &idx)
				idx.Manifests[0].Size++
				e["index.json"] = mustMarshal(t, idx)
			},
			wantErr: "size",
		},
		{
			name: "diff_id wrong",
			damage: func(e map[string][]byte) {
				var cfg imageConfig
				mustUnmarshal(t, e[blobName(m.Config)], &cfg)
				cfg.RootFS.DiffIDs[0] = digestOf(nil)
				replaceBlob(t, e, m.Config, mustMarshal(t, cfg), index.Manifests[0])
			},
			wantErr: "diff_id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			damaged, _ := untar(t, good)
			if tt.damage != nil {
				tt.damage(damaged)
			}
			_, err := Read(bytes.NewReader(retar(t, damaged)))
			checkErr(t, err, tt.wantErr)
		})
	}
}

// replaceBlob swaps the config blob old for data and rewrites the manifest
// and index.json to point at it, so only the content of data is wrong.
func replaceBlob(t *testing.T, e map[string][]byte, old descriptor, data []byte, manifestDesc descriptor) {
	t.Helper()
	newDesc := descriptor{MediaType: old.MediaType, Digest: digestOf(data), Size: int64(len(data))}
	e["blobs/sha256/"+strings.TrimPrefix(newDesc.Digest, "sha256:")] = data
	var m imageManifest
	mustUnmarshal(t, e["blobs/sha256/"+strings.TrimPrefix(manifestDesc.Digest, "sha256:")], &m)
	m.Config = newDesc
	mData := mustMarshal(t, m)
	mDigest := digestOf(mData)
	e["blobs/sha256/"+strings.TrimPrefix(mDigest, "sha256:")] = mData
	var idx imageIndex
	mustUnmarshal(t, e["index.json"], &idx)
	idx.Manifests[0].Digest, idx.Manifests[0].Size = mDigest, int64(len(mData))
	e["index.json"] = mustMarshal(t, idx)
}

func untar(t *testing.T, archive []byte) (map[string][]byte, map[string]*tar.Header) {
	t.Helper()
	entries := map[string][]byte{}
	headers := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries, headers
		}
		if err != nil {
			t.Fatalf("reading archive: %v", err)
		}
		headers[h.Name] = h
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			entries[h.Name] = data
		}
	}
}

func retar(t *testing.T, entries map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func blobOf(t *testing.T, entries map[string][]byte, d descriptor) []byte {
	t.Helper()
	data, ok := entries["blobs/sha256/"+strings.TrimPrefix(d.Digest, "sha256:")]
	if !ok {
		t.Fatalf("blob %s not in archive", d.Digest)
	}
	if int64(len(data)) != d.Size {
		t.Fatalf("blob %s: size %d, descriptor says %d", d.Digest, len(data), d.Size)
	}
	return data
}

func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
