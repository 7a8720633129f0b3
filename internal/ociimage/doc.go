// Package ociimage writes and reads OCI image-layout archives: the tarball
// that `ctr images import` (and containerd's Go import API) accepts.
//
// An archive holds one or more images. Each image is a single gzip-compressed
// layer built from an explicit list of files, an image config and a manifest;
// index.json lists one manifest per image, in the order given, annotated with
// both org.opencontainers.image.ref.name and io.containerd.image.name set to
// the image's full reference (e.g. "skiff.local/echo:1.0"). Blobs shared by
// several images (an identical layer, say) are stored once.
//
// Output is deterministic: timestamps are fixed, owners are root, entries are
// sorted, so writing the same images twice yields byte-identical archives and
// therefore identical digests.
package ociimage
