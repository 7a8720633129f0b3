package podspec

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const fileModeErrorMsg = "must be a number between 0 and 0777 (octal), both inclusive"

// validateVolumes checks the pod's volumes and returns the valid ones by
// name, for the volume mount checks of the containers.
func validateVolumes(volumes []corev1.Volume, podMeta *metav1.ObjectMeta, fldPath *field.Path) (map[string]corev1.VolumeSource, field.ErrorList) {
	var errs field.ErrorList
	createdPVCs := map[string]bool{}
	if podMeta != nil && podMeta.Name != "" {
		for _, v := range volumes {
			if v.Ephemeral != nil {
				createdPVCs[podMeta.Name+"-"+v.Name] = true
			}
		}
	}
	vols := map[string]corev1.VolumeSource{}
	for i := range volumes {
		v := &volumes[i]
		idxPath := fldPath.Index(i)
		namePath := idxPath.Child("name")
		el := validateVolumeSource(&v.VolumeSource, idxPath, v.Name, podMeta)
		if v.Name == "" {
			el = append(el, field.Required(namePath, ""))
		} else {
			el = append(el, validateDNSLabel(v.Name, namePath)...)
		}
		if _, dup := vols[v.Name]; dup {
			el = append(el, field.Duplicate(namePath, v.Name))
		}
		if len(el) == 0 {
			vols[v.Name] = v.VolumeSource
		} else {
			errs = append(errs, el...)
		}
		if v.PersistentVolumeClaim != nil && createdPVCs[v.PersistentVolumeClaim.ClaimName] {
			errs = append(errs, field.Invalid(idxPath.Child("persistentVolumeClaim").Child("claimName"), v.PersistentVolumeClaim.ClaimName,
				"must not reference a PVC that gets created for an ephemeral volume"))
		}
	}
	return vols, errs
}

// volumeSourceCheck names one volume source, whether it is set and how to
// validate it.
type volumeSourceCheck struct {
	name     string
	set      bool
	validate func() field.ErrorList
}

// validateVolumeSource requires exactly one source and validates it. The
// sources are examined in Kubernetes' order so the same one is reported as
// the extra source.
func validateVolumeSource(s *corev1.VolumeSource, fldPath *field.Path, volName string, podMeta *metav1.ObjectMeta) field.ErrorList {
	none := func() field.ErrorList { return nil }
	checks := []volumeSourceCheck{
		{"emptyDir", s.EmptyDir != nil, func() field.ErrorList { return validateEmptyDir(s.EmptyDir, fldPath.Child("emptyDir")) }},
		{"hostPath", s.HostPath != nil, func() field.ErrorList { return validateHostPath(s.HostPath, fldPath.Child("hostPath")) }},
		{"gitRepo", s.GitRepo != nil, func() field.ErrorList { return validateGitRepo(s.GitRepo, fldPath.Child("gitRepo")) }},
		{"gcePersistentDisk", s.GCEPersistentDisk != nil, func() field.ErrorList {
			return validateDiskVolume(s.GCEPersistentDisk.PDName, "pdName", s.GCEPersistentDisk.Partition, fldPath.Child("persistentDisk"))
		}},
		{"awsElasticBlockStore", s.AWSElasticBlockStore != nil, func() field.ErrorList {
			return validateDiskVolume(s.AWSElasticBlockStore.VolumeID, "volumeID", s.AWSElasticBlockStore.Partition, fldPath.Child("awsElasticBlockStore"))
		}},
		{"secret", s.Secret != nil, func() field.ErrorList { return validateSecretVolume(s.Secret, fldPath.Child("secret")) }},
		{"nfs", s.NFS != nil, func() field.ErrorList { return validateNFS(s.NFS, fldPath.Child("nfs")) }},
		{"iscsi", s.ISCSI != nil, func() field.ErrorList { return validateISCSI(s.ISCSI, volName, fldPath) }},
		{"glusterfs", s.Glusterfs != nil, func() field.ErrorList {
			return requireStrings(fldPath.Child("glusterfs"), "endpoints", s.Glusterfs.EndpointsName, "path", s.Glusterfs.Path)
		}},
		{"flocker", s.Flocker != nil, none},
		{"persistentVolumeClaim", s.PersistentVolumeClaim != nil, func() field.ErrorList {
			return requireStrings(fldPath.Child("persistentVolumeClaim"), "claimName", s.PersistentVolumeClaim.ClaimName)
		}},
		{"rbd", s.RBD != nil, func() field.ErrorList { return validateRBD(s.RBD, fldPath.Child("rbd")) }},
		{"cinder", s.Cinder != nil, func() field.ErrorList { return validateCinder(s.Cinder, fldPath.Child("cinder")) }},
		{"cephFS", s.CephFS != nil, func() field.ErrorList {
			if len(s.CephFS.Monitors) == 0 {
				return field.ErrorList{field.Required(fldPath.Child("cephfs").Child("monitors"), "")}
			}
			return nil
		}},
		{"quobyte", s.Quobyte != nil, none},
		// Kubernetes spells this path "downwarAPI" in the extra-source error.
		{"downwarAPI", s.DownwardAPI != nil, func() field.ErrorList { return validateDownwardAPIVolume(s.DownwardAPI, fldPath.Child("downwardAPI")) }},
		{"fc", s.FC != nil, func() field.ErrorList { return validateFC(s.FC, fldPath.Child("fc")) }},
		{"flexVolume", s.FlexVolume != nil, func() field.ErrorList {
			return requireStrings(fldPath.Child("flexVolume"), "driver", s.FlexVolume.Driver)
		}},
		{"configMap", s.ConfigMap != nil, func() field.ErrorList { return validateConfigMapVolume(s.ConfigMap, fldPath.Child("configMap")) }},
		{"azureFile", s.AzureFile != nil, func() field.ErrorList {
			return requireStrings(fldPath.Child("azureFile"), "secretName", s.AzureFile.SecretName, "shareName", s.AzureFile.ShareName)
		}},
		{"vsphereVolume", s.VsphereVolume != nil, none},
		{"photonPersistentDisk", s.PhotonPersistentDisk != nil, none},
		{"portworxVolume", s.PortworxVolume != nil, none},
		{"azureDisk", s.AzureDisk != nil, func() field.ErrorList { return validateAzureDisk(s.AzureDisk, fldPath.Child("azureDisk")) }},
		{"storageos", s.StorageOS != nil, none},
		{"projected", s.Projected != nil, func() field.ErrorList { return validateProjected(s.Projected, fldPath.Child("projected")) }},
		{"scaleIO", s.ScaleIO != nil, none},
		{"csi", s.CSI != nil, func() field.ErrorList { return validateCSI(s.CSI, fldPath.Child("csi")) }},
		{"ephemeral", s.Ephemeral != nil, func() field.ErrorList {
			return validateEphemeralVolume(s.Ephemeral, volName, podMeta, fldPath)
		}},
		{"image", s.Image != nil, func() field.ErrorList { return validateImageVolume(s.Image, podMeta != nil, fldPath.Child("image")) }},
	}
	var errs field.ErrorList
	n := 0
	for _, c := range checks {
		if !c.set {
			continue
		}
		if n > 0 {
			errs = append(errs, field.Forbidden(fldPath.Child(c.name), "may not specify more than 1 volume type"))
			continue
		}
		n++
		errs = append(errs, c.validate()...)
	}
	if n == 0 {
		errs = append(errs, field.Required(fldPath, "must specify a volume type"))
	}
	return errs
}

// requireStrings reports each empty value of the (name, value) pairs as a
// required child of fldPath.
func requireStrings(fldPath *field.Path, pairs ...string) field.ErrorList {
	var errs field.ErrorList
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			errs = append(errs, field.Required(fldPath.Child(pairs[i]), ""))
		}
	}
	return errs
}

func validateEmptyDir(e *corev1.EmptyDirVolumeSource, fldPath *field.Path) field.ErrorList {
	if e.SizeLimit != nil && e.SizeLimit.Sign() < 0 {
		return field.ErrorList{field.Forbidden(fldPath.Child("sizeLimit"), "SizeLimit field must be a valid resource quantity")}
	}
	return nil
}

var supportedHostPathTypes = []corev1.HostPathType{
	corev1.HostPathUnset, corev1.HostPathBlockDev, corev1.HostPathCharDev, corev1.HostPathDirectory,
	corev1.HostPathDirectoryOrCreate, corev1.HostPathFile, corev1.HostPathFileOrCreate, corev1.HostPathSocket,
}

func validateHostPath(h *corev1.HostPathVolumeSource, fldPath *field.Path) field.ErrorList {
	if h.Path == "" {
		return field.ErrorList{field.Required(fldPath.Child("path"), "")}
	}
	errs := validatePathNoBacksteps(h.Path, fldPath.Child("path"))
	if h.Type != nil {
		ok := false
		for _, t := range supportedHostPathTypes {
			ok = ok || t == *h.Type
		}
		if !ok {
			errs = append(errs, field.NotSupported(fldPath.Child("type"), h.Type, supportedHostPathTypes))
		}
	}
	return errs
}

func validateGitRepo(g *corev1.GitRepoVolumeSource, fldPath *field.Path) field.ErrorList {
	errs := requireStrings(fldPath, "repository", g.Repository)
	return append(errs, validateLocalDescendingPath(g.Directory, fldPath.Child("directory"))...)
}

func validateDiskVolume(id, idField string, partition int32, fldPath *field.Path) field.ErrorList {
	errs := requireStrings(fldPath, idField, id)
	if partition < 0 || partition > 255 {
		errs = append(errs, field.Invalid(fldPath.Child("partition"), partition, validation.InclusiveRangeError(1, 255)))
	}
	return errs
}

func validateSecretVolume(s *corev1.SecretVolumeSource, fldPath *field.Path) field.ErrorList {
	errs := requireStrings(fldPath, "secretName", s.SecretName)
	errs = append(errs, validateFileMode(s.DefaultMode, fldPath.Child("defaultMode"))...)
	for i := range s.Items {
		errs = append(errs, validateKeyToPath(&s.Items[i], fldPath.Child("items").Index(i))...)
	}
	return errs
}

func validateConfigMapVolume(c *corev1.ConfigMapVolumeSource, fldPath *field.Path) field.ErrorList {
	errs := requireStrings(fldPath, "name", c.Name)
	errs = append(errs, validateFileMode(c.DefaultMode, fldPath.Child("defaultMode"))...)
	for i := range c.Items {
		errs = append(errs, validateKeyToPath(&c.Items[i], fldPath.Child("items").Index(i))...)
	}
	return errs
}

func validateFileMode(mode *int32, fldPath *field.Path) field.ErrorList {
	if mode != nil && (*mode > 0o777 || *mode < 0) {
		return field.ErrorList{field.Invalid(fldPath, *mode, fileModeErrorMsg)}
	}
	return nil
}

func validateKeyToPath(kp *corev1.KeyToPath, fldPath *field.Path) field.ErrorList {
	errs := requireStrings(fldPath, "key", kp.Key, "path", kp.Path)
	errs = append(errs, validateLocalNonReservedPath(kp.Path, fldPath.Child("path"))...)
	return append(errs, validateFileMode(kp.Mode, fldPath.Child("mode"))...)
}

func validateNFS(n *corev1.NFSVolumeSource, fldPath *field.Path) field.ErrorList {
	errs := requireStrings(fldPath, "server", n.Server, "path", n.Path)
	if !path.IsAbs(n.Path) {
		errs = append(errs, field.Invalid(fldPath.Child("path"), n.Path, "must be an absolute path"))
	}
	return errs
}

func validateISCSI(s *corev1.ISCSIVolumeSource, volName string, volPath *field.Path) field.ErrorList {
	fldPath := volPath.Child("iscsi")
	errs := requireStrings(fldPath, "targetPortal", s.TargetPortal, "iqn", s.IQN)
	if s.IQN != "" && !strings.HasPrefix(s.IQN, "iqn") && !strings.HasPrefix(s.IQN, "eui") && !strings.HasPrefix(s.IQN, "naa") {
		errs = append(errs, field.Invalid(fldPath.Child("iqn"), s.IQN, "must be valid format starting with iqn, eui, or naa"))
	}
	if s.Lun < 0 || s.Lun > 255 {
		errs = append(errs, field.Invalid(fldPath.Child("lun"), s.Lun, validation.InclusiveRangeError(0, 255)))
	}
	if (s.DiscoveryCHAPAuth || s.SessionCHAPAuth) && s.SecretRef == nil {
		errs = append(errs, field.Required(fldPath.Child("secretRef"), ""))
	}
	if s.InitiatorName != nil && len(volName+":"+s.TargetPortal) > 64 {
		errs = append(errs, field.Invalid(volPath.Child("name"), volName,
			"Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified."))
	}
	return errs
}

func validateRBD(r *corev1.RBDVolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(r.CephMonitors) == 0 {
		errs = append(errs, field.Required(fldPath.Child("monitors"), ""))
	}
	return append(errs, requireStrings(fldPath, "image", r.RBDImage)...)
}

func validateCinder(c *corev1.CinderVolumeSource, fldPath *field.Path) field.ErrorList {
	errs := requireStrings(fldPath, "volumeID", c.VolumeID)
	if c.SecretRef != nil && c.SecretRef.Name == "" {
		errs = append(errs, field.Required(fldPath.Child("secretRef", "name"), ""))
	}
	return errs
}

func validateFC(fc *corev1.FCVolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(fc.TargetWWNs) == 0 && len(fc.WWIDs) == 0 {
		errs = append(errs, field.Required(fldPath.Child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"))
	}
	if len(fc.TargetWWNs) != 0 && len(fc.WWIDs) != 0 {
		errs = append(errs, field.Invalid(fldPath.Child("targetWWNs"), fc.TargetWWNs, "targetWWNs and wwids can not be specified simultaneously"))
	}
	if len(fc.TargetWWNs) != 0 {
		if fc.Lun == nil {
			errs = append(errs, field.Required(fldPath.Child("lun"), "lun is required if targetWWNs is specified"))
		} else if *fc.Lun < 0 || *fc.Lun > 255 {
			errs = append(errs, field.Invalid(fldPath.Child("lun"), fc.Lun, validation.InclusiveRangeError(0, 255)))
		}
	}
	return errs
}

var supportedCachingModes = []corev1.AzureDataDiskCachingMode{
	corev1.AzureDataDiskCachingNone, corev1.AzureDataDiskCachingReadOnly, corev1.AzureDataDiskCachingReadWrite,
}

var supportedDiskKinds = []corev1.AzureDataDiskKind{
	corev1.AzureDedicatedBlobDisk, corev1.AzureManagedDisk, corev1.AzureSharedBlobDisk,
}

func validateAzureDisk(d *corev1.AzureDiskVolumeSource, fldPath *field.Path) field.ErrorList {
	errs := requireStrings(fldPath, "diskName", d.DiskName, "diskURI", d.DataDiskURI)
	if d.CachingMode != nil {
		ok := false
		for _, m := range supportedCachingModes {
			ok = ok || m == *d.CachingMode
		}
		if !ok {
			errs = append(errs, field.NotSupported(fldPath.Child("cachingMode"), *d.CachingMode, supportedCachingModes))
		}
	}
	if d.Kind != nil {
		ok := false
		for _, k := range supportedDiskKinds {
			ok = ok || k == *d.Kind
		}
		if !ok {
			errs = append(errs, field.NotSupported(fldPath.Child("kind"), *d.Kind, supportedDiskKinds))
		}
		if *d.Kind == corev1.AzureManagedDisk && !strings.HasPrefix(d.DataDiskURI, "/subscriptions/") {
			errs = append(errs, field.NotSupported(fldPath.Child("diskURI"), d.DataDiskURI,
				[]string{"/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/{disk-id}"}))
		}
		if *d.Kind != corev1.AzureManagedDisk && !strings.HasPrefix(d.DataDiskURI, "https://") {
			errs = append(errs, field.NotSupported(fldPath.Child("diskURI"), d.DataDiskURI,
				[]string{"https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd"}))
		}
	}
	return errs
}

func validateDownwardAPIVolume(d *corev1.DownwardAPIVolumeSource, fldPath *field.Path) field.ErrorList {
	errs := validateFileMode(d.DefaultMode, fldPath.Child("defaultMode"))
	for i := range d.Items {
		errs = append(errs, validateDownwardAPIFile(&d.Items[i], fldPath)...)
	}
	return errs
}

func validateDownwardAPIFile(f *corev1.DownwardAPIVolumeFile, fldPath *field.Path) field.ErrorList {
	errs := requireStrings(fldPath, "path", f.Path)
	errs = append(errs, validateLocalNonReservedPath(f.Path, fldPath.Child("path"))...)
	switch {
	case f.FieldRef != nil:
		errs = append(errs, validateObjectFieldSelector(f.FieldRef, volumeFieldPaths, fldPath.Child("fieldRef"))...)
		if f.ResourceFieldRef != nil {
			errs = append(errs, field.Invalid(fldPath, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		}
	case f.ResourceFieldRef != nil:
		errs = append(errs, validateResourceFieldSelector(f.ResourceFieldRef, true, fldPath.Child("resourceFieldRef"))...)
	default:
		errs = append(errs, field.Required(fldPath, "one of fieldRef and resourceFieldRef is required"))
	}
	return append(errs, validateFileMode(f.Mode, fldPath.Child("mode"))...)
}

func validateProjected(p *corev1.ProjectedVolumeSource, fldPath *field.Path) field.ErrorList {
	errs := validateFileMode(p.DefaultMode, fldPath.Child("defaultMode"))
	paths := map[string]bool{}
	claim := func(p string) bool {
		if paths[p] {
			return false
		}
		paths[p] = true
		return true
	}
	for i, src := range p.Sources {
		n := 0
		srcPath := fldPath.Child("sources").Index(i)
		if s := src.Secret; s != nil {
			n++
			errs = append(errs, requireStrings(srcPath.Child("secret"), "name", s.Name)...)
			for j := range s.Items {
				errs = append(errs, validateKeyToPath(&s.Items[j], srcPath.Child("secret", "items").Index(j))...)
				if s.Items[j].Path != "" && !claim(s.Items[j].Path) {
					errs = append(errs, field.Invalid(fldPath, s.Name, "conflicting duplicate paths"))
				}
			}
		}
		if c := src.ConfigMap; c != nil {
			n++
			errs = append(errs, requireStrings(srcPath.Child("configMap"), "name", c.Name)...)
			for j := range c.Items {
				errs = append(errs, validateKeyToPath(&c.Items[j], srcPath.Child("configMap", "items").Index(j))...)
				if c.Items[j].Path != "" && !claim(c.Items[j].Path) {
					errs = append(errs, field.Invalid(fldPath, c.Name, "conflicting duplicate paths"))
				}
			}
		}
		if d := src.DownwardAPI; d != nil {
			n++
			for j := range d.Items {
				errs = append(errs, validateDownwardAPIFile(&d.Items[j], srcPath.Child("downwardAPI"))...)
				if d.Items[j].Path != "" && !claim(d.Items[j].Path) {
					errs = append(errs, field.Invalid(fldPath, d.Items[j].Path, "conflicting duplicate paths"))
				}
			}
		}
		if t := src.ServiceAccountToken; t != nil {
			n++
			expPath := srcPath.Child("serviceAccountToken", "expirationSeconds")
			if exp := t.ExpirationSeconds; exp != nil && *exp < 10*60 {
				errs = append(errs, field.Invalid(expPath, *exp, "may not specify a duration less than 10 minutes"))
			} else if exp != nil && *exp > 1<<32 {
				errs = append(errs, field.Invalid(expPath, *exp, "may not specify a duration larger than 2^32 seconds"))
			}
			if t.Path == "" {
				errs = append(errs, field.Required(fldPath.Child("path"), ""))
			} else {
				errs = append(errs, validateLocalNonReservedPath(t.Path, fldPath.Child("path"))...)
			}
		}
		if b := src.ClusterTrustBundle; b != nil {
			n++
			ctbPath := srcPath.Child("clusterTrustBundle")
			switch {
			case b.Name != nil && b.SignerName != nil:
				errs = append(errs, field.Invalid(ctbPath, b, "only one of name and signerName may be used"))
			case b.Name == nil && b.SignerName == nil:
				errs = append(errs, field.Required(ctbPath, "either name or signerName must be specified"))
			}
			errs = append(errs, requireStrings(ctbPath, "path", b.Path)...)
			errs = append(errs, validateLocalNonReservedPath(b.Path, ctbPath.Child("path"))...)
			if !claim(b.Path) {
				errs = append(errs, field.Invalid(fldPath, b.Path, "conflicting duplicate paths"))
			}
		}
		if src.PodCertificate != nil {
			n++
		}
		if n > 1 {
			errs = append(errs, field.Forbidden(srcPath, "may not specify more than 1 volume type per source"))
		}
	}
	return errs
}

func validateCSI(c *corev1.CSIVolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	driverPath := fldPath.Child("driver")
	switch {
	case c.Driver == "":
		errs = append(errs, field.Required(driverPath, ""))
	case len(c.Driver) > 63:
		errs = append(errs, field.TooLong(driverPath, "", 63))
	default:
		for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(c.Driver)) {
			errs = append(errs, field.Invalid(driverPath, c.Driver, msg))
		}
	}
	if c.NodePublishSecretRef != nil && c.NodePublishSecretRef.Name == "" {
		errs = append(errs, field.Required(fldPath.Child("nodePublishSecretRef", "name"), ""))
	}
	return errs
}

func validateEphemeralVolume(e *corev1.EphemeralVolumeSource, volName string, podMeta *metav1.ObjectMeta, volPath *field.Path) field.ErrorList {
	fldPath := volPath.Child("ephemeral")
	if e.VolumeClaimTemplate == nil {
		return field.ErrorList{field.Required(fldPath.Child("volumeClaimTemplate"), "")}
	}
	var errs field.ErrorList
	specPath := fldPath.Child("volumeClaimTemplate", "spec")
	spec := &e.VolumeClaimTemplate.Spec
	if len(spec.AccessModes) == 0 {
		errs = append(errs, field.Required(specPath.Child("accessModes"), "at least 1 access mode is required"))
	}
	if _, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(specPath.Child("resources").Key(string(corev1.ResourceStorage)), ""))
	}
	if podMeta != nil && podMeta.Name != "" && volName != "" {
		pvcName := podMeta.Name + "-" + volName
		for _, msg := range apivalidation.NameIsDNSSubdomain(pvcName, false) {
			errs = append(errs, field.Invalid(volPath.Child("name"), volName, fmt.Sprintf("PVC name %q: %v", pvcName, msg)))
		}
	}
	return errs
}

// validateImageVolume checks an OCI image volume; only pods must name the
// image, templates may leave it for a controller to fill in.
func validateImageVolume(v *corev1.ImageVolumeSource, resourceIsPod bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if resourceIsPod && v.Reference == "" {
		errs = append(errs, field.Required(fldPath.Child("reference"), ""))
	}
	if resourceIsPod && len(v.Reference) != len(strings.TrimSpace(v.Reference)) {
		errs = append(errs, field.Invalid(fldPath.Child("reference"), v.Reference, "must not have leading or trailing whitespace"))
	}
	switch v.PullPolicy {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	case "":
		errs = append(errs, field.Required(fldPath.Child("pullPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(fldPath.Child("pullPolicy"), v.PullPolicy, supportedPullPolicies))
	}
	return errs
}

// validateLocalDescendingPath requires a relative path without "..".
func validateLocalDescendingPath(p string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(p) {
		errs = append(errs, field.Invalid(fldPath, p, "must be a relative path"))
	}
	return append(errs, validatePathNoBacksteps(p, fldPath)...)
}

func validatePathNoBacksteps(p string, fldPath *field.Path) field.ErrorList {
	for _, part := range strings.Split(filepath.ToSlash(p), "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(fldPath, p, "must not contain '..'")}
		}
	}
	return nil
}

// validateLocalNonReservedPath additionally rejects names starting with
// "..", which the kubelet reserves for its own bookkeeping.
func validateLocalNonReservedPath(p string, fldPath *field.Path) field.ErrorList {
	errs := validateLocalDescendingPath(p, fldPath)
	if strings.HasPrefix(p, "..") && !strings.HasPrefix(p, "../") {
		errs = append(errs, field.Invalid(fldPath, p, "must not start with '..'"))
	}
	return errs
}

var supportedMountPropagations = []corev1.MountPropagationMode{
	corev1.MountPropagationBidirectional, corev1.MountPropagationHostToContainer, corev1.MountPropagationNone,
}

// validateVolumeMounts checks a container's mounts against the pod volumes.
func validateVolumeMounts(c *corev1.Container, volumes map[string]corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	devices := map[string]string{}
	for _, d := range c.VolumeDevices {
		devices[d.Name] = d.DevicePath
	}
	mountPoints := map[string]bool{}
	for i, m := range c.VolumeMounts {
		idxPath := fldPath.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(idxPath.Child("name"), ""))
		}
		src, found := volumes[m.Name]
		if !found {
			errs = append(errs, field.NotFound(idxPath.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(idxPath.Child("mountPath"), ""))
		}
		if mountPoints[m.MountPath] {
			errs = append(errs, field.Invalid(idxPath.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPoints[m.MountPath] = true
		if _, ok := devices[m.Name]; ok {
			errs = append(errs, field.Invalid(idxPath.Child("name"), m.Name, "must not already exist in volumeDevices"))
		}
		for _, devPath := range devices {
			if devPath == m.MountPath {
				errs = append(errs, field.Invalid(idxPath.Child("mountPath"), m.MountPath, "must not already exist as a path in volumeDevices"))
				break
			}
		}
		if found && src.Image != nil {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(idxPath.Child("subPath"), m.SubPath, "not allowed in image volume sources"))
			}
			if m.SubPathExpr != "" {
				errs = append(errs, field.Invalid(idxPath.Child("subPathExpr"), m.SubPathExpr, "not allowed in image volume sources"))
			}
		}
		// Kubernetes reports sub-path problems against the list path, not
		// the entry; keep the same paths.
		if m.SubPath != "" {
			errs = append(errs, validateLocalDescendingPath(m.SubPath, fldPath.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(idxPath.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			}
			errs = append(errs, validateLocalDescendingPath(m.SubPathExpr, fldPath.Child("subPathExpr"))...)
		}
		if m.MountPropagation != nil {
			errs = append(errs, validateMountPropagation(*m.MountPropagation, c, fldPath.Child("mountPropagation"))...)
		}
		errs = append(errs, validateRecursiveReadOnly(m, fldPath.Child("recursiveReadOnly"))...)
	}
	return errs
}

func validateMountPropagation(mode corev1.MountPropagationMode, c *corev1.Container, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	ok := false
	for _, m := range supportedMountPropagations {
		ok = ok || m == mode
	}
	if !ok {
		errs = append(errs, field.NotSupported(fldPath, mode, supportedMountPropagations))
	}
	privileged := c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
	if mode == corev1.MountPropagationBidirectional && !privileged {
		errs = append(errs, field.Forbidden(fldPath, "Bidirectional mount propagation is available only to privileged containers"))
	}
	return errs
}

func validateRecursiveReadOnly(m corev1.VolumeMount, fldPath *field.Path) field.ErrorList {
	if m.RecursiveReadOnly == nil {
		return nil
	}
	var errs field.ErrorList
	switch *m.RecursiveReadOnly {
	case corev1.RecursiveReadOnlyDisabled:
	case corev1.RecursiveReadOnlyEnabled, corev1.RecursiveReadOnlyIfPossible:
		if !m.ReadOnly {
			errs = append(errs, field.Forbidden(fldPath, "may only be specified when readOnly is true"))
		}
		if m.MountPropagation != nil && *m.MountPropagation != corev1.MountPropagationNone {
			errs = append(errs, field.Forbidden(fldPath, "may only be specified when mountPropagation is None or not specified"))
		}
	default:
		errs = append(errs, field.NotSupported(fldPath, *m.RecursiveReadOnly, []corev1.RecursiveReadOnlyMode{
			corev1.RecursiveReadOnlyDisabled, corev1.RecursiveReadOnlyEnabled, corev1.RecursiveReadOnlyIfPossible}))
	}
	return errs
}

// validateVolumeDevices checks raw block devices, which only PVC-backed
// volumes can provide.
func validateVolumeDevices(c *corev1.Container, volumes map[string]corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	paths, names := map[string]bool{}, map[string]bool{}
	for i, d := range c.VolumeDevices {
		idxPath := fldPath.Index(i)
		src, found := volumes[d.Name]
		isPVC := found && (src.PersistentVolumeClaim != nil || src.Ephemeral != nil)
		if d.Name == "" {
			errs = append(errs, field.Required(idxPath.Child("name"), ""))
		}
		if names[d.Name] {
			errs = append(errs, field.Invalid(idxPath.Child("name"), d.Name, "must be unique"))
		}
		if found && !isPVC {
			errs = append(errs, field.Invalid(idxPath.Child("name"), d.Name, "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"))
		}
		if !found {
			errs = append(errs, field.NotFound(idxPath.Child("name"), d.Name))
		}
		if d.DevicePath == "" {
			errs = append(errs, field.Required(idxPath.Child("devicePath"), ""))
		}
		if paths[d.DevicePath] {
			errs = append(errs, field.Invalid(idxPath.Child("devicePath"), d.DevicePath, "must be unique"))
		}
		if d.DevicePath != "" && len(validatePathNoBacksteps(d.DevicePath, idxPath)) > 0 {
			errs = append(errs, field.Invalid(idxPath.Child("devicePath"), d.DevicePath, "can not contain backsteps ('..')"))
		} else {
			paths[d.DevicePath] = true
		}
		if _, ok := mounts[d.Name]; ok {
			errs = append(errs, field.Invalid(idxPath.Child("name"), d.Name, "must not already exist in volumeMounts"))
		}
		for _, mp := range mounts {
			if mp == d.DevicePath {
				errs = append(errs, field.Invalid(idxPath.Child("devicePath"), d.DevicePath, "must not already exist as a path in volumeMounts"))
				break
			}
		}
		if d.Name != "" {
			names[d.Name] = true
		}
	}
	return errs
}
