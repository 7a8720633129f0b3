package volumes

import (
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func boundClaim(name, uid, pv string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(uid)},
		Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: pv},
		Status:     corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound},
	}
}

func pvFor(name, claimUID string, src corev1.PersistentVolumeSource) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeSource: src,
			ClaimRef:               &corev1.ObjectReference{Namespace: "ns", Name: "c", UID: types.UID(claimUID)},
		},
	}
}

func claimVolume(name, claim string, readOnly bool) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: readOnly}}}
}

func TestClaims(t *testing.T) {
	hostDir := t.TempDir()
	localDir := t.TempDir()
	newHostDir := filepath.Join(t.TempDir(), "made")
	g := newFakeGetter()
	g.claims["ns/host"] = boundClaim("host", "c1", "pv-host")
	g.pvs["pv-host"] = pvFor("pv-host", "c1", corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}})
	g.claims["ns/local"] = boundClaim("local", "c2", "pv-local")
	g.pvs["pv-local"] = pvFor("pv-local", "c2", corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: localDir}})
	g.claims["ns/create"] = boundClaim("create", "c3", "pv-create")
	g.pvs["pv-create"] = pvFor("pv-create", "c3", corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
		Path: newHostDir, Type: ptr(corev1.HostPathDirectoryOrCreate)}})
	pending := boundClaim("pending", "c4", "")
	pending.Status.Phase = corev1.ClaimPending
	g.claims["ns/pending"] = pending
	deleting := boundClaim("deleting", "c5", "pv-host")
	deleting.DeletionTimestamp = &metav1.Time{}
	g.claims["ns/deleting"] = deleting
	g.claims["ns/stolen"] = boundClaim("stolen", "c6", "pv-host") // pv-host is bound to c1
	g.claims["ns/nfs"] = boundClaim("nfs", "c7", "pv-nfs")
	g.pvs["pv-nfs"] = pvFor("pv-nfs", "c7", corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "x", Path: "/"}})
	g.claims["ns/nopv"] = boundClaim("nopv", "c8", "pv-gone")
	g.claims["ns/gonelocal"] = boundClaim("gonelocal", "c9", "pv-gonelocal")
	g.pvs["pv-gonelocal"] = pvFor("pv-gonelocal", "c9", corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: filepath.Join(localDir, "absent")}})
	unboundPV := pvFor("pv-unbound", "", corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}})
	unboundPV.Spec.ClaimRef = nil
	g.pvs["pv-unbound"] = unboundPV
	g.claims["ns/tounbound"] = boundClaim("tounbound", "c10", "pv-unbound")
	// Generic ephemeral volume "scratch" of pod "web" uses claim "web-scratch".
	eph := boundClaim("web-scratch", "c11", "pv-eph")
	eph.OwnerReferences = []metav1.OwnerReference{{Kind: "Pod", Name: "web", UID: "uid-claims", Controller: ptr(true)}}
	g.claims["ns/web-scratch"] = eph
	g.pvs["pv-eph"] = pvFor("pv-eph", "c11", corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}})

	m := newTestManager(t, g)
	good := testPod("uid-claims",
		claimVolume("host", "host", false), claimVolume("local", "local", true), claimVolume("create", "create", false),
		corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}})
	if err := setupWithCleanup(t, m, good); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(newHostDir); err != nil || !info.IsDir() {
		t.Errorf("DirectoryOrCreate PV path not created: %v", err)
	}
	c := &corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{
		{Name: "host", MountPath: "/h"}, {Name: "local", MountPath: "/l"}, {Name: "create", MountPath: "/c", ReadOnly: true},
		{Name: "scratch", MountPath: "/s"},
	}}
	mounts, err := m.Mounts(good, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	wants := []struct {
		path string
		ro   bool
	}{{hostDir, false}, {localDir, true}, {newHostDir, true}, {hostDir, false}}
	for i, w := range wants {
		if mounts[i].HostPath != w.path || mounts[i].Readonly != w.ro {
			t.Errorf("mount %d = %s ro=%v, want %s ro=%v", i, mounts[i].HostPath, mounts[i].Readonly, w.path, w.ro)
		}
	}

	errTests := []struct {
		name string
		vol  corev1.Volume
		want string
	}{
		{"missing claim", claimVolume("v", "absent", false), `error processing PVC ns/absent: failed to fetch PVC from API server: persistentvolumeclaims "absent" not found`},
		{"pending claim", claimVolume("v", "pending", false), "error processing PVC ns/pending: PVC is not bound"},
		{"deleting claim", claimVolume("v", "deleting", false), "error processing PVC ns/deleting: PVC is being deleted"},
		{"volume bound elsewhere", claimVolume("v", "stolen", false), "found PV object pv-host but its pv.Spec.ClaimRef.UID c1 does not point to claim.UID c6"},
		{"volume not bound", claimVolume("v", "tounbound", false), "found PV object pv-unbound but it has a nil pv.Spec.ClaimRef"},
		{"missing volume", claimVolume("v", "nopv", false), "failed to fetch PV pv-gone from API server"},
		{"unsupported volume", claimVolume("v", "nfs", false), "PV pv-nfs: unsupported persistent volume type"},
		{"missing local path", claimVolume("v", "gonelocal", false), "PV pv-gonelocal: local volume: hostPath " + filepath.Join(localDir, "absent") + " doesn't exist"},
		{"ephemeral claim of another pod", corev1.Volume{Name: "other", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
			`error processing PVC ns/web-other: failed to fetch PVC from API server: persistentvolumeclaims "web-other" not found`},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod("uid-claim-err", tt.vol)
			err := setupWithCleanup(t, m, pod)
			wantErrContaining(t, err, `MountVolume.SetUp failed for volume "`+tt.vol.Name+`" : `)
			wantErrContaining(t, err, tt.want)
			c := &corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{{Name: tt.vol.Name, MountPath: "/v"}}}
			if _, err := m.Mounts(pod, c, nil); err == nil {
				t.Error("Mounts succeeded for a volume whose Setup failed")
			}
		})
	}

	// The ephemeral claim exists but belongs to another pod (different UID).
	impostor := testPod("uid-impostor", corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}})
	err = setupWithCleanup(t, m, impostor)
	wantErrContaining(t, err, "PVC ns/web-scratch was not created for the pod ns/web (pod is not owner)")
}

func TestClaimForgottenOnTeardown(t *testing.T) {
	hostDir := t.TempDir()
	g := newFakeGetter()
	g.claims["ns/c"] = boundClaim("c", "c1", "pv")
	g.pvs["pv"] = pvFor("pv", "c1", corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}})
	m := newTestManager(t, g)
	pod := testPod("uid-forget", claimVolume("v", "c", false))
	if err := setupWithCleanup(t, m, pod); err != nil {
		t.Fatal(err)
	}
	if err := m.Teardown(t.Context(), pod.UID); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.claim(pod.UID, "v"); ok {
		t.Error("claim path remembered after teardown")
	}
	if _, err := os.Stat(hostDir); err != nil {
		t.Errorf("teardown touched the PV's host path: %v", err)
	}
}
