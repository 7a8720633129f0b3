package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/testserver"
)

// TestAgentJoin runs the node agent as its own process, `skiff agent
// --server URL --token-file FILE`, against a server without an agent, as
// a second machine would: it must join with the server's token, register
// a Ready node, run a pod and serve its logs and exec through the API
// server with its own certificates.
func TestAgentJoin(t *testing.T) {
	requireKubectl(t)
	archives := requireNodeHost(t)
	requireBinary(t)
	server := startServer(t, "--disable-agent", "--disable-dns", "--disable-ingress", "--cluster-cidr", nodeClusterCIDR, "--service-cidr", nodeServiceCIDR)
	k := newKubectl(t, server)

	agentDir := t.TempDir()
	t.Cleanup(func() { removeNodeLeftovers(t, agentDir) })
	imagesDir := filepath.Join(agentDir, "agent", "images")
	if err := os.MkdirAll(imagesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range archives {
		if err := copyFile(a, filepath.Join(imagesDir, filepath.Base(a))); err != nil {
			t.Fatal(err)
		}
	}
	ports, err := testserver.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	const node = "skiff-e2e-joined"
	logPath := filepath.Join(t.TempDir(), "agent.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	agent := exec.Command(skiffBinary, "agent",
		"--server", "https://127.0.0.1:"+strconv.Itoa(server.port),
		"--token-file", filepath.Join(server.dataDir, "token"),
		"--data-dir", agentDir, "--node-name", node, "--agent-port", strconv.Itoa(ports[0]),
		"--cluster-cidr", nodeClusterCIDR, "--service-cidr", nodeServiceCIDR)
	agent.Stdout, agent.Stderr = logFile, logFile
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = agent.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = agent.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(stopDeadline):
			_ = agent.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("skiff agent log, last lines:\n%s", tail(logPath, 60))
		}
	})

	// kubectl wait fails at once on a node that does not exist yet.
	registered := time.Now().Add(nodeReadyDeadline)
	for k.run("get", "node", node).code != 0 {
		if time.Now().After(registered) {
			t.Fatalf("node %s not registered within %v", node, nodeReadyDeadline)
		}
		time.Sleep(200 * time.Millisecond)
	}
	k.ok("wait", "--for=condition=Ready", "node/"+node, "--timeout=90s")
	ns := "join"
	k.ok("create", "namespace", ns)
	t.Cleanup(func() {
		k.run("delete", "namespace", ns, "--wait=true", "--timeout=60s")
		end := time.Now().Add(drainDeadline)
		for {
			ids, err := runtimeContainers(agentDir)
			if err == nil && len(ids) == 0 {
				return
			}
			if time.Now().After(end) {
				t.Errorf("containers left in the joined agent's containerd: %v (%v)", ids, err)
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
	k.ok("run", "-n", ns, "greeter", "--image="+busyboxImage, "--", "sh", "-c", `trap "exit 0" TERM; echo joined; sleep 3600 & wait`)
	k.waitPodReady(ns, "greeter")
	if got := k.get(ns, "pod/greeter", "{.spec.nodeName}"); got != node {
		t.Fatalf("pod ran on %q, want %q", got, node)
	}
	if out := k.ok("logs", "-n", ns, "greeter"); !strings.Contains(out, "joined") {
		t.Fatalf("logs = %q", out)
	}
	if out := strings.TrimSpace(k.execIn(ns, "greeter", "hostname")); out != "greeter" {
		t.Fatalf("exec hostname = %q", out)
	}
	// The node's client certificate names it as Kubernetes' node identity.
	if out := k.ok("get", "lease", "-n", "kube-node-lease", node, "-o", "jsonpath={.spec.holderIdentity}"); out != node {
		t.Fatalf("lease holder = %q", out)
	}
}
