package node

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// MachineInput says where to look; the zero value reads the real machine.
type MachineInput struct {
	// DataDir is the file system whose size is ephemeral-storage.
	DataDir string
	// NodeIP overrides the detected InternalIP.
	NodeIP   string
	Hostname string
	Port     int32
	// RuntimeVersion is e.g. "containerd://1.6.20".
	RuntimeVersion string
	AgentVersion   string
}

// ReadMachine gathers the Facts of this machine.
func ReadMachine(in MachineInput) (Facts, error) {
	var f Facts
	f.CPU = *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI)
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return f, fmt.Errorf("node facts: %w", err)
	}
	memKB, err := MemTotalKB(meminfo)
	if err != nil {
		return f, err
	}
	f.Memory = *resource.NewQuantity(memKB*1024, resource.BinarySI)
	var st unix.Statfs_t
	if err := unix.Statfs(in.DataDir, &st); err != nil {
		return f, fmt.Errorf("node facts: statfs %s: %w", in.DataDir, err)
	}
	f.EphemeralStorage = *resource.NewQuantity(int64(st.Blocks)*st.Bsize, resource.BinarySI)
	f.Pods = 110
	ip := in.NodeIP
	if ip == "" {
		ip = DefaultIPv4()
	}
	f.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeHostName, Address: in.Hostname}}
	f.Port = in.Port
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	machineID := strings.TrimSpace(readOr("/etc/machine-id", ""))
	if machineID == "" {
		sum := sha256.Sum256([]byte(in.Hostname))
		machineID = hex.EncodeToString(sum[:16])
	}
	f.Info = corev1.NodeSystemInfo{
		MachineID:               machineID,
		SystemUUID:              strings.TrimSpace(readOr("/sys/class/dmi/id/product_uuid", machineID)),
		BootID:                  strings.TrimSpace(readOr("/proc/sys/kernel/random/boot_id", "")),
		KernelVersion:           unix.ByteSliceToString(uts.Release[:]),
		OSImage:                 OSImage([]byte(readOr("/etc/os-release", ""))),
		ContainerRuntimeVersion: in.RuntimeVersion,
		KubeletVersion:          in.AgentVersion,
		KubeProxyVersion:        "",
		OperatingSystem:         runtime.GOOS,
		Architecture:            runtime.GOARCH,
	}
	return f, nil
}

func readOr(path, def string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	return string(b)
}

// MemTotalKB parses MemTotal from /proc/meminfo.
func MemTotalKB(meminfo []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			return strconv.ParseInt(fields[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("node facts: no MemTotal in /proc/meminfo")
}

// OSImage is PRETTY_NAME from an os-release file, as the kubelet reports.
func OSImage(osRelease []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(osRelease))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return "Linux"
}

// DefaultIPv4 is the first global IPv4 address of an interface that is up
// and not a loopback or a pod bridge; 127.0.0.1 when there is none.
func DefaultIPv4() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 ||
			strings.HasPrefix(ifc.Name, "cni") || strings.HasPrefix(ifc.Name, "veth") || strings.HasPrefix(ifc.Name, "skiff") || strings.HasPrefix(ifc.Name, "skf") {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// DefaultName is the Node name an agent uses when none is given: the
// host name in lower case, as the kubelet does.
func DefaultName() (string, error) {
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("node name: %w", err)
	}
	return strings.ToLower(h), nil
}
