package agent

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// bridgeName is the Linux bridge the pods of a pod CIDR attach to, named
// after the range ("skf" + address and prefix length in hex, within the
// kernel's 15 characters), so that agents of different clusters on one
// machine, or a cluster recreated with another range, never share one.
func bridgeName(podCIDR string) string {
	p, err := netip.ParsePrefix(podCIDR)
	if err != nil || !p.Addr().Is4() {
		return "skiff0"
	}
	a := p.Masked().Addr().As4()
	return fmt.Sprintf("skf%02x%02x%02x%02x%02x", a[0], a[1], a[2], a[3], p.Bits())
}

// cniConfig is the pod network: a bridge with host-local addresses from
// the node's pod CIDR (the bridge is the pods' gateway, so the host
// reaches every pod), plus portmap for hostPort. mtu (when positive) is
// the MTU of the bridge and the pods' interfaces, small enough for the
// overlay's encapsulation (see podNetworkMTU); pods created before it
// changed keep theirs until they are re-created.
func cniConfig(podCIDR, ipamDir string, mtu int) ([]byte, error) {
	bridge := map[string]any{
		"type": "bridge", "bridge": bridgeName(podCIDR), "isGateway": true, "ipMasq": false, "hairpinMode": true,
		"ipam": map[string]any{
			"type":    "host-local",
			"ranges":  [][]map[string]string{{{"subnet": podCIDR}}},
			"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
			"dataDir": ipamDir,
		},
	}
	if mtu > 0 {
		bridge["mtu"] = mtu
	}
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "skiff",
		"plugins": []any{
			bridge,
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}

// writeCNIConfig installs the pod network configuration, which the
// runtime picks up on its own. It changes the file only when the
// configuration differs; it runs at every start, so a node's file always
// has the current MTU.
func writeCNIConfig(confDir, podCIDR, ipamDir string, mtu int) error {
	data, err := cniConfig(podCIDR, ipamDir, mtu)
	if err != nil {
		return err
	}
	path := filepath.Join(confDir, "10-skiff.conflist")
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ensureUnreachable installs "unreachable" routes for the cluster and
// service ranges, so that traffic to pod or service addresses that no
// bridge or DNAT rule claims is refused here instead of leaving the
// machine. More specific routes (this node's pod bridge) still win, and so
// do the Service proxy's DNAT rules for forwarded traffic, which are
// applied before routing.
func ensureUnreachable(cidrs ...string) error {
	for _, cidr := range cidrs {
		if cidr == "" {
			continue
		}
		if err := ipCommand("route", "replace", "unreachable", cidr); err != nil {
			return err
		}
	}
	return nil
}

// Host-originated traffic to a ClusterIP is routed before the proxy's
// OUTPUT rules rewrite it, so the unreachable route would refuse it. The
// host's own packets to the service range therefore look up a table of
// their own whose route points at an empty bridge (dummy devices are not
// in every kernel): the DNAT rules then send them to the endpoints, and
// what no rule claims dies on the portless bridge, still without leaving
// the machine.
const (
	serviceDummy = "skiffsvc"
	serviceTable = "4243"
	serviceRule  = "10043"
)

// ensureServiceRouting lets the host reach ClusterIPs through the proxy.
func ensureServiceRouting(serviceCIDR string) error {
	if serviceCIDR == "" {
		return nil
	}
	if _, err := exec.Command("ip", "link", "show", serviceDummy).Output(); err != nil {
		if err := ipCommand("link", "add", serviceDummy, "type", "bridge"); err != nil {
			return err
		}
	}
	if err := ipCommand("link", "set", serviceDummy, "up"); err != nil {
		return err
	}
	if err := ipCommand("route", "replace", serviceCIDR, "dev", serviceDummy, "table", serviceTable); err != nil {
		return err
	}
	rules, err := exec.Command("ip", "rule", "show").Output()
	if err != nil {
		return fmt.Errorf("ip rule show: %w", err)
	}
	if hasServiceRule(string(rules), serviceCIDR) {
		return nil
	}
	return ipCommand("rule", "add", "priority", serviceRule, "to", serviceCIDR, "iif", "lo", "lookup", serviceTable)
}

// hasServiceRule reports whether `ip rule show` output has the rule.
func hasServiceRule(rules, serviceCIDR string) bool {
	for _, line := range strings.Split(rules, "\n") {
		if strings.Contains(line, "to "+serviceCIDR+" ") && strings.Contains(line, "iif lo") && strings.Contains(line, "lookup "+serviceTable) {
			return true
		}
	}
	return false
}

func ipCommand(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
