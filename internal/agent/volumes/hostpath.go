package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// checkNoBacksteps rejects a path with a ".." element.
func checkNoBacksteps(p string) error {
	for _, item := range strings.Split(p, "/") {
		if item == ".." {
			return errors.New("must not contain '..'")
		}
	}
	return nil
}

// fileType names what is at a host path in HostPathType terms: Directory,
// File, Socket, CharDevice or BlockDevice. Symlinks are followed.
func fileType(p string) (corev1.HostPathType, error) {
	info, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	switch mode := info.Mode(); {
	case mode.IsDir():
		return corev1.HostPathDirectory, nil
	case mode.IsRegular():
		return corev1.HostPathFile, nil
	case mode&fs.ModeSocket != 0:
		return corev1.HostPathSocket, nil
	case mode&fs.ModeDevice != 0 && mode&fs.ModeCharDevice != 0:
		return corev1.HostPathCharDev, nil
	case mode&fs.ModeDevice != 0:
		return corev1.HostPathBlockDev, nil
	}
	return "", errors.New("only recognise file, directory, socket, block device and character device")
}

// checkHostPath applies a hostPath volume's type: the "OrCreate" types create
// a missing directory (mode 0755, parents too) or empty file (mode 0644, the
// parent must exist); the others require the path to exist with that type;
// the empty type checks nothing. Messages are the kubelet's.
func checkHostPath(p string, t *corev1.HostPathType) error {
	if err := checkNoBacksteps(p); err != nil {
		return fmt.Errorf("invalid HostPath `%s`: %w", p, err)
	}
	if t == nil {
		return nil
	}
	switch *t {
	case corev1.HostPathUnset:
		return nil
	case corev1.HostPathDirectoryOrCreate:
		if !pathExists(p) {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return fmt.Errorf("create hostPath directory %s: %w", p, err)
			}
			return nil
		}
		return expectType(p, corev1.HostPathDirectory, "directory")
	case corev1.HostPathDirectory:
		return expectType(p, corev1.HostPathDirectory, "directory")
	case corev1.HostPathFileOrCreate:
		if !pathExists(p) {
			f, err := os.OpenFile(p, os.O_CREATE|os.O_RDONLY, 0o644)
			if err != nil {
				return fmt.Errorf("create hostPath file %s: %w", p, err)
			}
			return f.Close()
		}
		return expectType(p, corev1.HostPathFile, "file")
	case corev1.HostPathFile:
		return expectType(p, corev1.HostPathFile, "file")
	case corev1.HostPathSocket:
		return expectType(p, corev1.HostPathSocket, "socket file")
	case corev1.HostPathCharDev:
		return expectType(p, corev1.HostPathCharDev, "character device")
	case corev1.HostPathBlockDev:
		return expectType(p, corev1.HostPathBlockDev, "block device")
	}
	return fmt.Errorf("%s is an invalid volume type", *t)
}

func pathExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// expectType fails unless p exists and has type want.
func expectType(p string, want corev1.HostPathType, description string) error {
	if !pathExists(p) {
		return fmt.Errorf("hostPath %s doesn't exist", p)
	}
	got, err := fileType(p)
	if err != nil {
		return fmt.Errorf("hostPath type check failed, %s is not a %s, unable to determine its type: %w", p, description, err)
	}
	if got != want {
		return fmt.Errorf("hostPath type check failed: %s is not a %s, it's a %s", p, description, got)
	}
	return nil
}
