package podspec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateVolumeSources(t *testing.T) {
	tests := []struct {
		name string
		src  corev1.VolumeSource
		want []string
	}{
		{"emptyDir", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, nil},
		{"hostPath relative ok, backsteps not", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/a/../b"}},
			[]string{`v[0].hostPath.path: Invalid value: "/a/../b": must not contain '..'`}},
		{"hostPath bad type", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/a", Type: ptrTo(corev1.HostPathType("Pipe"))}},
			[]string{`v[0].hostPath.type: Unsupported value: "Pipe": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"`}},
		{"configMap item path", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cm"},
			Items:                []corev1.KeyToPath{{Key: "k", Path: "/abs"}, {Key: "k", Path: "..x"}}}},
			[]string{`v[0].configMap.items[0].path: Invalid value: "/abs": must be a relative path`,
				`v[0].configMap.items[1].path: Invalid value: "..x": must not start with '..'`}},
		{"pvc", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{}},
			[]string{"v[0].persistentVolumeClaim.claimName: Required value"}},
		{"nfs", corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s", Path: "rel"}},
			[]string{`v[0].nfs.path: Invalid value: "rel": must be an absolute path`}},
		{"downwardAPI unsupported field", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "p", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}}}},
			[]string{`v[0].downwardAPI.fieldRef.fieldPath: Unsupported value: "spec.nodeName": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"`}},
		{"downwardAPI resource without container", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "p", ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}}}},
			[]string{"v[0].downwardAPI.resourceFieldRef.containerName: Required value"}},
		{"projected duplicate paths and short token", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "a"}, Items: []corev1.KeyToPath{{Key: "k", Path: "same"}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "b"}, Items: []corev1.KeyToPath{{Key: "k", Path: "same"}}}},
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptrTo(int64(60))}},
		}}},
			[]string{`v[0].projected: Invalid value: "b": conflicting duplicate paths`,
				"v[0].projected.sources[2].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"}},
		{"csi", corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{}}, []string{"v[0].csi.driver: Required value"}},
		{"image volume in template needs pull policy", corev1.VolumeSource{Image: &corev1.ImageVolumeSource{}},
			[]string{"v[0].image.pullPolicy: Required value"}},
		{"ephemeral without template", corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}},
			[]string{"v[0].ephemeral.volumeClaimTemplate: Required value"}},
		{"downwardAPI extra source uses Kubernetes' path", corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{}, DownwardAPI: &corev1.DownwardAPIVolumeSource{}},
			[]string{"v[0].downwarAPI: Forbidden: may not specify more than 1 volume type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vols, errs := validateVolumes([]corev1.Volume{{Name: "vol", VolumeSource: tt.src}}, nil, field.NewPath("v"))
			checkErrors(t, errs, tt.want)
			if _, ok := vols["vol"]; ok != (len(tt.want) == 0) {
				t.Errorf("volume usable = %v, want %v", ok, len(tt.want) == 0)
			}
		})
	}
}

func TestImageVolumeOnPods(t *testing.T) {
	_, errs := validateVolumes([]corev1.Volume{{Name: "img", VolumeSource: corev1.VolumeSource{
		Image: &corev1.ImageVolumeSource{PullPolicy: corev1.PullAlways}}}}, &validPod().ObjectMeta, field.NewPath("v"))
	checkErrors(t, errs, []string{"v[0].image.reference: Required value"})
}

func TestImageVolumeMountSubPath(t *testing.T) {
	spec := validSpec()
	spec.Volumes[0].VolumeSource = corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "img:1", PullPolicy: corev1.PullIfNotPresent}}
	spec.Containers[0].VolumeMounts[0].SubPath = "sub"
	checkErrors(t, ValidatePodSpec(&spec, field.NewPath("spec")),
		[]string{`spec.containers[0].volumeMounts[0].subPath: Invalid value: "sub": not allowed in image volume sources`})
}
