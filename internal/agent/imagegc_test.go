package agent

import (
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestUnusedImages(t *testing.T) {
	images := []*runtimeapi.Image{
		{Id: "sha256:pause", RepoTags: []string{SandboxImage}, Size: 1},
		{Id: "sha256:busy", RepoTags: []string{"skiff.local/busybox:1.36"}, Size: 5},
		{Id: "sha256:echo1", RepoTags: []string{"skiff.local/echo:1.0"}, Size: 7},
		{Id: "sha256:echo2", RepoTags: []string{"skiff.local/echo:2.0"}, Size: 9},
		{Id: "sha256:pinned", Pinned: true, Size: 100},
	}
	containers := []*runtimeapi.Container{{ImageRef: "sha256:busy", Image: &runtimeapi.ImageSpec{Image: "sha256:busy"}}}
	got := unusedImages(images, containers, SandboxImage)
	if len(got) != 2 || got[0].Id != "sha256:echo2" || got[1].Id != "sha256:echo1" {
		var ids []string
		for _, g := range got {
			ids = append(ids, g.Id)
		}
		t.Fatalf("unused = %v, want echo2, echo1 (largest first; pause, pinned and used images kept)", ids)
	}
}
