package podspec

import (
	corev1 "k8s.io/api/core/v1"
)

// defaultFileMode is 0644, the mode Kubernetes gives projected files.
const defaultFileMode int32 = 0o644

// defaultTokenExpirationSeconds is one hour, the default lifetime of a
// projected service account token.
const defaultTokenExpirationSeconds int64 = 3600

// defaultVolume sets the defaults of a pod volume: a volume without a source
// becomes an emptyDir, and each source gets its own defaults.
func defaultVolume(v *corev1.Volume) {
	src := &v.VolumeSource
	if volumeSourceCount(src) == 0 {
		src.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if src.HostPath != nil && src.HostPath.Type == nil {
		unset := corev1.HostPathUnset
		src.HostPath.Type = &unset
	}
	if src.Secret != nil {
		defaultModePtr(&src.Secret.DefaultMode)
	}
	if src.ConfigMap != nil {
		defaultModePtr(&src.ConfigMap.DefaultMode)
	}
	if src.DownwardAPI != nil {
		defaultModePtr(&src.DownwardAPI.DefaultMode)
		for i := range src.DownwardAPI.Items {
			defaultFieldSelector(src.DownwardAPI.Items[i].FieldRef)
		}
	}
	if src.Projected != nil {
		defaultProjected(src.Projected)
	}
	if src.ISCSI != nil && src.ISCSI.ISCSIInterface == "" {
		src.ISCSI.ISCSIInterface = "default"
	}
	if src.RBD != nil {
		defaultString(&src.RBD.RBDPool, "rbd")
		defaultString(&src.RBD.RadosUser, "admin")
		defaultString(&src.RBD.Keyring, "/etc/ceph/keyring")
	}
	if src.AzureDisk != nil {
		defaultAzureDisk(src.AzureDisk)
	}
	if src.ScaleIO != nil {
		defaultString(&src.ScaleIO.StorageMode, "ThinProvisioned")
		defaultString(&src.ScaleIO.FSType, "xfs")
	}
	if src.Ephemeral != nil && src.Ephemeral.VolumeClaimTemplate != nil {
		spec := &src.Ephemeral.VolumeClaimTemplate.Spec
		if spec.VolumeMode == nil {
			mode := corev1.PersistentVolumeFilesystem
			spec.VolumeMode = &mode
		}
		roundUpResourceList(spec.Resources.Limits)
		roundUpResourceList(spec.Resources.Requests)
	}
	if src.Image != nil && src.Image.PullPolicy == "" {
		src.Image.PullPolicy = defaultPullPolicy(src.Image.Reference)
	}
}

func defaultProjected(p *corev1.ProjectedVolumeSource) {
	defaultModePtr(&p.DefaultMode)
	for i := range p.Sources {
		s := &p.Sources[i]
		if s.DownwardAPI != nil {
			for j := range s.DownwardAPI.Items {
				defaultFieldSelector(s.DownwardAPI.Items[j].FieldRef)
			}
		}
		if s.ServiceAccountToken != nil && s.ServiceAccountToken.ExpirationSeconds == nil {
			exp := defaultTokenExpirationSeconds
			s.ServiceAccountToken.ExpirationSeconds = &exp
		}
	}
}

func defaultAzureDisk(d *corev1.AzureDiskVolumeSource) {
	if d.CachingMode == nil {
		mode := corev1.AzureDataDiskCachingReadWrite
		d.CachingMode = &mode
	}
	if d.FSType == nil {
		fsType := "ext4"
		d.FSType = &fsType
	}
	if d.ReadOnly == nil {
		readOnly := false
		d.ReadOnly = &readOnly
	}
	if d.Kind == nil {
		kind := corev1.AzureSharedBlobDisk
		d.Kind = &kind
	}
}

func defaultModePtr(mode **int32) {
	if *mode == nil {
		m := defaultFileMode
		*mode = &m
	}
}

func defaultString(s *string, value string) {
	if *s == "" {
		*s = value
	}
}

// volumeSourceCount returns how many sources a volume names; valid volumes
// name exactly one.
func volumeSourceCount(s *corev1.VolumeSource) int {
	n := 0
	for _, set := range []bool{
		s.HostPath != nil, s.EmptyDir != nil, s.GCEPersistentDisk != nil,
		s.AWSElasticBlockStore != nil, s.GitRepo != nil, s.Secret != nil,
		s.NFS != nil, s.ISCSI != nil, s.Glusterfs != nil,
		s.PersistentVolumeClaim != nil, s.RBD != nil, s.FlexVolume != nil,
		s.Cinder != nil, s.CephFS != nil, s.Flocker != nil,
		s.DownwardAPI != nil, s.FC != nil, s.AzureFile != nil,
		s.ConfigMap != nil, s.VsphereVolume != nil, s.Quobyte != nil,
		s.AzureDisk != nil, s.PhotonPersistentDisk != nil, s.Projected != nil,
		s.PortworxVolume != nil, s.ScaleIO != nil, s.StorageOS != nil,
		s.CSI != nil, s.Ephemeral != nil, s.Image != nil,
	} {
		if set {
			n++
		}
	}
	return n
}
