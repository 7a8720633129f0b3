package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The workload scenarios run with either node simulator, chosen by
// SKIFF_E2E_NODES:
//
//	skiff (default)  `skiff simulate`, one process per node group
//	kwok             kwok (sigs.k8s.io/kwok), one process per node group,
//	                 found through $KWOK, PATH or $(go env GOPATH)/bin;
//	                 hack/install-kwok.sh installs it. Missing, it is a
//	                 failure, not a skip.
//
// kwok does not register nodes: the harness creates them as a kubelet
// would (the same names, labels, taints, capacity and zones that
// `skiff simulate` gives a group), marked for kwok, and each kwok process
// manages its group's nodes through a label selector. kwok runs with the
// stages kwokctl gives it by default, read from the kwok module of the
// installed version: node initialisation, heartbeat with Leases, pods
// Ready, Job pods completing, pods deleted.
const (
	envNodeSim   = "SKIFF_E2E_NODES"
	nodeSimSkiff = "skiff"
	nodeSimKwok  = "kwok"

	// kwokNodeAnnotation marks the nodes kwok plays, as kwokctl marks its
	// fake nodes.
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
	// nodeGroupLabel names the node group (simNodes.name) of a node that
	// the harness created; each kwok process manages one group.
	nodeGroupLabel = "skiff.io/e2e-node-group"
	// kwokLeaseSeconds is the nodes' leaseDurationSeconds: kwok renews a
	// Lease every quarter of it (as the kubelet does), every 2s, as the
	// nodes of `skiff simulate` do in these tests.
	kwokLeaseSeconds = 8
	// defaultNodeEphemeralStorage is what `skiff simulate` reports.
	defaultNodeEphemeralStorage = "1Ti"
)

// kwokDefaultStages are the files of the kwok module holding the stages
// kwokctl configures kwok with by default (pkg/kwokctl/runtime: node
// stages with lease heartbeats, and the fast pod stages).
var kwokDefaultStages = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

// nodeSimulator returns the node simulator SKIFF_E2E_NODES asks for.
func nodeSimulator(t testing.TB) string {
	t.Helper()
	switch v := os.Getenv(envNodeSim); v {
	case "", nodeSimSkiff:
		return nodeSimSkiff
	case nodeSimKwok:
		return nodeSimKwok
	default:
		t.Fatalf("%s=%q: want %q or %q", envNodeSim, v, nodeSimSkiff, nodeSimKwok)
		return ""
	}
}

// kwokSetup is the kwok binary found for this run and its default stages.
type kwokSetup struct {
	binary, version string
	stages          string // multi-document YAML of Stage objects
}

var (
	kwokOnce  sync.Once
	kwokFound *kwokSetup
	kwokErr   error
)

// requireKwok fails the test when kwok, or its default stages, cannot be
// found.
func requireKwok(t testing.TB) *kwokSetup {
	t.Helper()
	kwokOnce.Do(func() { kwokFound, kwokErr = findKwok() })
	if kwokErr != nil {
		t.Fatalf("%s=%s: %v (hack/install-kwok.sh installs it)", envNodeSim, nodeSimKwok, kwokErr)
	}
	return kwokFound
}

func findKwok() (*kwokSetup, error) {
	bin, err := kwokBinary()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %v\n%s", bin, err, out)
	}
	// "kwok version v0.8.0 go1.26.8 (linux/amd64)"
	m := regexp.MustCompile(`^kwok version (v\d+\.\d+\.\d+\S*)`).FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("%s --version: no release version in %q", bin, out)
	}
	k := &kwokSetup{binary: bin, version: string(m[1])}
	if k.stages, err = kwokStages(k.version); err != nil {
		return nil, err
	}
	return k, nil
}

// kwokBinary finds kwok: $KWOK, then PATH, then $(go env GOPATH)/bin.
func kwokBinary() (string, error) {
	if p := os.Getenv("KWOK"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$KWOK: %w", err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("kwok"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("kwok is not on PATH, and go env GOPATH: %v", err)
	}
	var tried []string
	for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
		p := filepath.Join(dir, "bin", "kwok")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("kwok not found: $KWOK is unset, kwok is not on PATH, and none of %q exists", tried)
}

// kwokStages reads the default stages from the kwok module of the given
// version (in the module cache, where `go install` put it, or downloaded
// through the Go module proxy).
func kwokStages(version string) (string, error) {
	dir, err := os.MkdirTemp("", "skiff-e2e-kwok-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("go", "mod", "download", "-json", "sigs.k8s.io/kwok@"+version)
	cmd.Dir = dir // outside any module: nothing is recorded anywhere
	out, err := cmd.Output()
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &mod); jerr != nil || mod.Dir == "" {
		return "", fmt.Errorf("locating the kwok module %s for its default stages: go mod download: %v %s %s", version, err, mod.Error, out)
	}
	var docs []string
	for _, f := range kwokDefaultStages {
		data, err := os.ReadFile(filepath.Join(mod.Dir, f))
		if err != nil {
			return "", fmt.Errorf("kwok %s default stage: %w", version, err)
		}
		if !regexp.MustCompile(`(?m)^kind: Stage$`).Match(data) {
			return "", fmt.Errorf("kwok %s: %s is not a Stage", version, f)
		}
		docs = append(docs, strings.TrimSpace(string(data)))
	}
	return strings.Join(docs, "\n---\n") + "\n", nil
}

// startGroup creates the nodes of a group, as their kubelets would
// register them, and starts the kwok process that plays them.
func (k *kwokSetup) startGroup(t *testing.T, c *fullCluster, index int, g simNodes) *simProcess {
	t.Helper()
	list := corev1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	var created []string
	for i, name := range g.nodeNames() {
		n, err := kwokNode(g, index, i, name)
		if err != nil {
			t.Fatalf("node group %s: %v", g.name, err)
		}
		list.Items = append(list.Items, runtime.RawExtension{Object: n})
		created = append(created, "node/"+name+" created")
	}
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	file := c.k.write("nodes-"+g.name+".json", string(data))
	wantExactLines(t, c.k.ok("create", "-f", file), created...)

	stages := filepath.Join(t.TempDir(), "kwok-stages.yaml")
	if err := os.WriteFile(stages, []byte(k.stages), 0o600); err != nil {
		t.Fatal(err)
	}
	if index == 0 {
		t.Logf("nodes played by kwok %s (%s)", k.version, k.binary)
	}
	p := startNodeProcess(t, "kwok", "kwok-"+g.name, k.binary,
		"--kubeconfig", c.Kubeconfig(),
		"--config", stages,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector", kwokNodeAnnotation+"=fake",
		"--manage-nodes-with-label-selector", nodeGroupLabel+"="+g.name,
		"--node-lease-duration-seconds", fmt.Sprint(kwokLeaseSeconds),
		// Pod IPs come from the node's spec.podCIDR (node IPAM); until a
		// node has one, from a range of this process's own.
		"--cidr", fmt.Sprintf("10.240.%d.0/24", index),
	)
	// A line every 2s per node says its Lease was renewed.
	p.noise = `"msg":"Syncing lease"`
	return p
}

// kwokNode is the i-th node of group g (the index-th group) as its
// kubelet would register it: what `skiff simulate` registers, marked for
// kwok and its group's kwok process.
func kwokNode(g simNodes, index, i int, name string) (*corev1.Node, error) {
	if index > 255 || i > 250 {
		return nil, fmt.Errorf("node %s: the harness addresses at most 251 nodes in each of 256 groups", name)
	}
	labels := map[string]string{
		corev1.LabelHostname:           name,
		corev1.LabelOSStable:           "linux",
		corev1.LabelArchStable:         "amd64",
		"beta.kubernetes.io/os":        "linux",
		"beta.kubernetes.io/arch":      "amd64",
		corev1.LabelInstanceTypeStable: "kwok",
		"type":                         "kwok",
		nodeGroupLabel:                 g.name,
	}
	if len(g.zones) > 0 {
		labels[corev1.LabelTopologyZone] = g.zones[i%len(g.zones)]
	}
	for _, l := range g.labels {
		key, value, ok := strings.Cut(l, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("label %q: want KEY=VALUE", l)
		}
		labels[key] = value
	}
	var taints []corev1.Taint
	for _, s := range g.taints {
		kv, effect, ok := strings.Cut(s, ":")
		key, value, _ := strings.Cut(kv, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("taint %q: want KEY[=VALUE]:EFFECT", s)
		}
		taints = append(taints, corev1.Taint{Key: key, Value: value, Effect: corev1.TaintEffect(effect)})
	}
	capacity := corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(int64(g.pods), resource.DecimalSI)}
	for r, q := range map[corev1.ResourceName]string{
		corev1.ResourceCPU:              g.cpu,
		corev1.ResourceMemory:           g.memory,
		corev1.ResourceEphemeralStorage: defaultNodeEphemeralStorage,
	} {
		v, err := resource.ParseQuantity(q)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %v", r, q, err)
		}
		capacity[r] = v
	}
	return &corev1.Node{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: labels,
			Annotations: map[string]string{
				kwokNodeAnnotation:             "fake",
				"node.alpha.kubernetes.io/ttl": "0",
			},
		},
		Spec: corev1.NodeSpec{ProviderID: "kwok://" + name, Taints: taints},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity.DeepCopy(),
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("172.30.%d.%d", index, i+2)},
				{Type: corev1.NodeHostName, Address: name},
			},
		},
	}, nil
}
