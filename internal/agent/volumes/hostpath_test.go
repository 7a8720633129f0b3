package volumes

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestCheckHostPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name    string
		path    string
		typ     corev1.HostPathType
		nilType bool
		wantErr string
		// created is checked to exist afterwards with this type.
		created corev1.HostPathType
		mode    os.FileMode
	}{
		{name: "unset on missing path", path: missing, typ: corev1.HostPathUnset},
		{name: "nil type on missing path", path: missing, nilType: true},
		{name: "directory ok", path: dir, typ: corev1.HostPathDirectory},
		{name: "directory missing", path: missing, typ: corev1.HostPathDirectory, wantErr: "hostPath " + missing + " doesn't exist"},
		{name: "directory is a file", path: file, typ: corev1.HostPathDirectory, wantErr: "hostPath type check failed: " + file + " is not a directory, it's a File"},
		{name: "directory or create creates parents", path: filepath.Join(dir, "new/deep"), typ: corev1.HostPathDirectoryOrCreate, created: corev1.HostPathDirectory, mode: 0o755},
		{name: "directory or create on file", path: file, typ: corev1.HostPathDirectoryOrCreate, wantErr: "is not a directory, it's a File"},
		{name: "file ok", path: file, typ: corev1.HostPathFile},
		{name: "file is a dir", path: dir, typ: corev1.HostPathFile, wantErr: "is not a file, it's a Directory"},
		{name: "file or create creates", path: filepath.Join(dir, "newfile"), typ: corev1.HostPathFileOrCreate, created: corev1.HostPathFile, mode: 0o644},
		{name: "file or create needs parent", path: filepath.Join(dir, "nodir/f"), typ: corev1.HostPathFileOrCreate, wantErr: "create hostPath file"},
		{name: "file or create on dir", path: dir, typ: corev1.HostPathFileOrCreate, wantErr: "is not a file, it's a Directory"},
		{name: "socket ok", path: sock, typ: corev1.HostPathSocket},
		{name: "socket is a file", path: file, typ: corev1.HostPathSocket, wantErr: "is not a socket file, it's a File"},
		{name: "char device ok", path: "/dev/null", typ: corev1.HostPathCharDev},
		{name: "char device is a dir", path: dir, typ: corev1.HostPathCharDev, wantErr: "is not a character device, it's a Directory"},
		{name: "block device is a char device", path: "/dev/null", typ: corev1.HostPathBlockDev, wantErr: "is not a block device, it's a CharDevice"},
		{name: "invalid type", path: dir, typ: "Pipe", wantErr: "Pipe is an invalid volume type"},
		{name: "backsteps", path: dir + "/../etc", typ: corev1.HostPathUnset, wantErr: "invalid HostPath `" + dir + "/../etc`: must not contain '..'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := &tt.typ
			if tt.nilType {
				typ = nil
			}
			err := checkHostPath(tt.path, typ)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.created != "" {
				got, err := fileType(tt.path)
				if err != nil || got != tt.created {
					t.Fatalf("created %v (%v), want %v", got, err, tt.created)
				}
				info, _ := os.Stat(tt.path)
				if info.Mode().Perm() != tt.mode {
					t.Errorf("mode %v, want %v", info.Mode().Perm(), tt.mode)
				}
			}
		})
	}
}
