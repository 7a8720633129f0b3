package agent

import (
	"context"
	"sort"
	"time"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Image garbage collection, with the kubelet's default thresholds: when
// the image file system is more than 85% full, unused images are removed,
// largest first (CRI does not tell when an image was last used), until it
// is below 80%. Skiff's sandbox image is never removed.
const (
	imageGCPeriod = 5 * time.Minute
	imageGCHigh   = 85
	imageGCLow    = 80
)

// diskUsage reports how full the file system holding path is, in percent.
func diskUsage(path string) (int, uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	total := st.Blocks * uint64(st.Bsize)
	free := st.Bavail * uint64(st.Bsize)
	if total == 0 {
		return 0, 0, nil
	}
	return int(100 * (total - free) / total), total, nil
}

// unusedImages lists the images no container uses, largest first, never
// including the sandbox image.
func unusedImages(images []*runtimeapi.Image, containers []*runtimeapi.Container, sandboxImage string) []*runtimeapi.Image {
	used := map[string]bool{}
	for _, c := range containers {
		used[c.ImageRef] = true
		used[c.GetImage().GetImage()] = true
	}
	var out []*runtimeapi.Image
	for _, img := range images {
		if used[img.Id] || img.Pinned {
			continue
		}
		pinned := false
		for _, tag := range img.RepoTags {
			if tag == sandboxImage || used[tag] {
				pinned = true
			}
		}
		if !pinned {
			out = append(out, img)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Size > out[j].Size })
	return out
}

// collectImages removes unused images while the image file system is over
// the high threshold.
func (a *Agent) collectImages(ctx context.Context, rt runtimeapi.RuntimeServiceClient, img runtimeapi.ImageServiceClient, root string) {
	t := time.NewTicker(imageGCPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pct, total, err := diskUsage(root)
		if err != nil || pct < imageGCHigh {
			continue
		}
		images, err := img.ListImages(ctx, &runtimeapi.ListImagesRequest{})
		if err != nil {
			continue
		}
		cs, err := rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
		if err != nil {
			continue
		}
		toFree := uint64(pct-imageGCLow) * total / 100
		var freed uint64
		for _, im := range unusedImages(images.Images, cs.Containers, SandboxImage) {
			if freed >= toFree {
				break
			}
			if _, err := img.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: im.Id}}); err != nil {
				a.log.Warn("image garbage collection", "image", im.RepoTags, "err", err)
				continue
			}
			freed += im.Size
			a.log.Info("removed unused image under disk pressure", "image", im.RepoTags, "bytes", im.Size)
		}
	}
}
