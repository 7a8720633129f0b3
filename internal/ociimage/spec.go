package ociimage

// Media types and annotation keys from the OCI image specification and
// containerd that the archive uses.
const (
	// MediaTypeIndex is the media type of index.json.
	MediaTypeIndex = "application/vnd.oci.image.index.v1+json"
	// MediaTypeManifest is the media type of an image manifest.
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	// MediaTypeConfig is the media type of an image config.
	MediaTypeConfig = "application/vnd.oci.image.config.v1+json"
	// MediaTypeLayerGzip is the media type of a gzip-compressed layer tar.
	MediaTypeLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
	// MediaTypeLayer is the media type of an uncompressed layer tar.
	MediaTypeLayer = "application/vnd.oci.image.layer.v1.tar"

	// AnnotationRefName is the OCI annotation naming an image in index.json.
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationContainerdImageName is the annotation containerd's importer
	// prefers as the image name.
	AnnotationContainerdImageName = "io.containerd.image.name"

	// DefaultArchitecture is the architecture recorded when Image.Architecture
	// is empty.
	DefaultArchitecture = "amd64"

	layoutFile    = "oci-layout"
	indexFile     = "index.json"
	blobDir       = "blobs/sha256/"
	layoutVersion = "1.0.0"
)

// The JSON documents of the OCI image specification, reduced to the fields
// this package writes or reads.

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

type imageLayout struct {
	Version string `json:"imageLayoutVersion"`
}

type imageIndex struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType,omitempty"`
	Manifests     []descriptor `json:"manifests"`
}

type imageManifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType,omitempty"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

type imageConfig struct {
	Created      string          `json:"created,omitempty"`
	Architecture string          `json:"architecture"`
	OS           string          `json:"os"`
	Config       containerConfig `json:"config"`
	RootFS       rootFS          `json:"rootfs"`
	History      []history       `json:"history,omitempty"`
}

type containerConfig struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type history struct {
	Created   string `json:"created,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
}
