package podspec

import (
	"regexp"

	corev1 "k8s.io/api/core/v1"
)

// imageRefPattern follows the container image reference grammar
// ([domain/]path[:tag][@digest]) closely enough to tell tags from digests
// and to recognise references a registry client would refuse to parse.
var imageRefPattern = regexp.MustCompile(`^` +
	// optional registry domain, recognised only when followed by a path
	`(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?` +
	// repository path: lower-case components joined by separators
	`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
	`(?::([\w][\w.-]{0,127}))?` +
	`(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?` +
	`$`)

// imageTagAndDigest returns the tag and digest of an image reference. A
// reference with neither gets the implicit tag "latest". ok is false when
// the reference does not parse; callers then treat it as untagged.
func imageTagAndDigest(image string) (tag, digest string, ok bool) {
	m := imageRefPattern.FindStringSubmatch(image)
	if m == nil {
		return "", "", false
	}
	tag, digest = m[1], m[2]
	if tag == "" && digest == "" {
		tag = "latest"
	}
	return tag, digest, true
}

// defaultPullPolicy is the pull policy Kubernetes gives an image: Always for
// the "latest" tag (explicit or implied), IfNotPresent otherwise, including
// for digests and for references that do not parse.
func defaultPullPolicy(image string) corev1.PullPolicy {
	tag, _, _ := imageTagAndDigest(image)
	if tag == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}
