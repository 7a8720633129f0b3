package e2e

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// scenarioEndpoints: the Endpoints and EndpointSlices of a Service list
// the IPs of its Ready pods, and follow the pods as they change.
func scenarioEndpoints(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-endpoints")
	k.write("backend.yaml", nsManifest(ns, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
  namespace: __NS__
spec:
  replicas: 2
  selector:
    matchLabels: {app: backend}
  template:
    metadata:
      labels: {app: backend}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: __NS__
spec:
  selector: {app: backend}
  ports:
  - port: 80
    targetPort: 8080
`))
	wantExactLines(t, k.ok("apply", "-f", "backend.yaml"), "deployment.apps/backend created", "service/backend created")
	for _, n := range []int{2, 3} {
		if n != 2 {
			wantExactLines(t, k.ok("scale", "deployment/backend", fmt.Sprintf("--replicas=%d", n), "-n", ns), "deployment.apps/backend scaled")
		}
		pods := k.waitRunning(ns, "app=backend", n)
		var ips []string
		for _, p := range pods {
			ips = append(ips, p.ip)
		}
		sort.Strings(ips)
		want := strings.Join(ips, " ")
		eventually(t, settleDeadline, "Endpoints backend to list "+want, func() (bool, string) {
			got := sortedFields(k.ok("get", "endpoints", "backend", "-n", ns, "-o", "jsonpath={.subsets[*].addresses[*].ip}"))
			return got == want, got
		})
		eventually(t, settleDeadline, "EndpointSlices of backend to list "+want, func() (bool, string) {
			got := sortedFields(k.ok("get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=backend",
				"-o", `jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]} {end}`))
			return got == want, got
		})

		// As kubectl shows them.
		ep := parseTable(t, k.ok("get", "endpoints", "backend", "-n", ns)).row(t, "NAME", "backend")
		var addrs []string
		for _, ip := range ips {
			addrs = append(addrs, ip+":8080")
		}
		if got := strings.Split(ep["ENDPOINTS"], ","); !sameSet(got, addrs) {
			t.Errorf("kubectl get endpoints backend: ENDPOINTS %q, want %s in any order", ep["ENDPOINTS"], strings.Join(addrs, ","))
		}
		table := parseTable(t, k.ok("get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=backend"))
		if len(table.rows) != 1 {
			t.Fatalf("EndpointSlices of backend: %v, want one", table.rows)
		}
		s := table.rows[0]
		if !strings.HasPrefix(s["NAME"], "backend-") || s["ADDRESSTYPE"] != "IPv4" || s["PORTS"] != "8080" || !sameSet(strings.Split(s["ENDPOINTS"], ","), ips) {
			t.Errorf("kubectl get endpointslices: %v, want backend-*, IPv4, 8080, %s", s, strings.Join(ips, ","))
		}
	}
	ready := sortedFields(k.ok("get", "endpoints", "backend", "-n", ns, "-o", "jsonpath={.subsets[*].addresses[*].ip}"))

	// A pod that runs but is not Ready (a readiness gate is not met) is
	// listed as not ready, and moves over once it becomes Ready.
	k.write("gated.yaml", nsManifest(ns, `apiVersion: v1
kind: Pod
metadata:
  name: gated
  namespace: __NS__
  labels: {app: backend, role: gated}
spec:
  readinessGates:
  - conditionType: example.com/warm
  containers:
  - name: c
    image: nginx:1.25
    ports:
    - containerPort: 8080
`))
	wantExactLines(t, k.ok("apply", "-f", "gated.yaml"), "pod/gated created")
	if c.nodeSim == nodeSimKwok {
		// kwok's default pod-ready stage sets every readiness gate True
		// itself and never re-evaluates Ready, where a kubelet leaves the
		// gates alone and reports Ready as containers ready AND gates
		// True. So here the test posts the kubelet's view of the unmet
		// gate, once kwok has started the pod.
		eventually(t, settleDeadline, "pod gated to run", func() (bool, string) {
			pods := k.pods(ns, "role=gated")
			return len(pods) == 1 && pods[0].phase == "Running" && pods[0].ip != "", describePods(pods)
		})
		wantExactLines(t, k.ok("patch", "pod", "gated", "-n", ns, "--subresource=status", "--type=strategic",
			"-p", `{"status":{"conditions":[{"type":"example.com/warm","status":"False"},{"type":"Ready","status":"False"}]}}`), "pod/gated patched")
	}
	var gated podInfo
	eventually(t, settleDeadline, "pod gated to run, not Ready", func() (bool, string) {
		pods := k.pods(ns, "role=gated")
		if len(pods) != 1 || pods[0].phase != "Running" || pods[0].ip == "" || pods[0].ready != "False" {
			return false, describePods(pods)
		}
		gated = pods[0]
		return true, ""
	})
	endpoints := func() string {
		return k.ok("get", "endpoints", "backend", "-n", ns, "-o", "jsonpath={.subsets[*].addresses[*].ip}|{.subsets[*].notReadyAddresses[*].ip}")
	}
	sliceEndpoints := func() string {
		return k.ok("get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=backend",
			"-o", `jsonpath={range .items[*].endpoints[*]}{.addresses[0]}={.conditions.ready} {end}`)
	}
	eventually(t, settleDeadline, "Endpoints backend to list "+gated.ip+" as not ready", func() (bool, string) {
		got := endpoints()
		addrs, notReady, _ := strings.Cut(got, "|")
		return sortedFields(addrs) == ready && notReady == gated.ip, got
	})
	eventually(t, settleDeadline, "EndpointSlices of backend to list "+gated.ip+" with ready=false", func() (bool, string) {
		got := sliceEndpoints()
		return strings.Contains(" "+got, " "+gated.ip+"=false ") && len(strings.Fields(got)) == 4, got
	})
	if c.nodeSim == nodeSimKwok {
		// kwok does not re-evaluate Ready (see above): post both.
		wantExactLines(t, k.ok("patch", "pod", "gated", "-n", ns, "--subresource=status", "--type=strategic",
			"-p", `{"status":{"conditions":[{"type":"example.com/warm","status":"True"},{"type":"Ready","status":"True"}]}}`), "pod/gated patched")
	} else {
		wantExactLines(t, k.ok("patch", "pod", "gated", "-n", ns, "--subresource=status", "--type=json",
			"-p", `[{"op":"add","path":"/status/conditions/-","value":{"type":"example.com/warm","status":"True"}}]`), "pod/gated patched")
	}
	all := sortedFields(ready + " " + gated.ip)
	eventually(t, settleDeadline, "Endpoints backend to list "+gated.ip+" as ready", func() (bool, string) {
		got := endpoints()
		addrs, notReady, _ := strings.Cut(got, "|")
		return sortedFields(addrs) == all && notReady == "", got
	})
	eventually(t, settleDeadline, "EndpointSlices of backend to list "+gated.ip+" with ready=true", func() (bool, string) {
		got := sliceEndpoints()
		return strings.Contains(" "+got, " "+gated.ip+"=true ") && !strings.Contains(got, "=false"), got
	})
}

func sortedFields(s string) string {
	f := strings.Fields(s)
	sort.Strings(f)
	return strings.Join(f, " ")
}

func sameSet(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

// scenarioUnschedulable: a pod that requests more CPU than any node has
// stays Pending, with the PodScheduled condition and the FailedScheduling
// event saying why.
func scenarioUnschedulable(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-unschedulable")
	k.write("huge.yaml", nsManifest(ns, `apiVersion: v1
kind: Pod
metadata:
  name: huge
  namespace: __NS__
spec:
  containers:
  - name: c
    image: nginx:1.25
    resources:
      requests: {cpu: "64"}
`))
	wantExactLines(t, k.ok("apply", "-f", "huge.yaml"), "pod/huge created")
	// The request exceeds every node's allocatable, so preemption cannot
	// help either (kube-scheduler 1.34 and later say so).
	const why = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	if msg := k.waitFailedScheduling(ns, "huge"); msg != why {
		t.Errorf("FailedScheduling event: %q, want %q", msg, why)
	}
	got := k.ok("get", "pod", "huge", "-n", ns, "-o", `jsonpath={.status.phase}|{.spec.nodeName}|{.status.conditions[?(@.type=="PodScheduled")].status}|{.status.conditions[?(@.type=="PodScheduled")].reason}|{.status.conditions[?(@.type=="PodScheduled")].message}`)
	if f := strings.Split(got, "|"); len(f) != 5 || f[0] != "Pending" || f[1] != "" || f[2] != "False" || f[3] != "Unschedulable" || f[4] != why {
		t.Errorf("unschedulable pod: phase|node|PodScheduled status|reason|message = %q, want Pending||False|Unschedulable|%s", got, why)
	}
	parseTable(t, k.ok("get", "pod", "huge", "-n", ns, "-o", "wide")).wantRow(t, "huge", map[string]string{
		"READY": "0/1", "STATUS": "Pending", "NODE": "<none>"})
}

// scenarioQuota: with a ResourceQuota of one pod, the second pod is
// refused with Kubernetes' exceeded-quota message, and allowed once the
// first is gone.
func scenarioQuota(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-quota")
	wantExactLines(t, k.ok("create", "quota", "one-pod", "--hard=pods=1", "-n", ns), "resourcequota/one-pod created")
	eventually(t, settleDeadline, "the quota controller to compute one-pod's status", func() (bool, string) {
		got := k.ok("get", "quota", "one-pod", "-n", ns, "-o", "jsonpath={.status.hard.pods}/{.status.used.pods}")
		return got == "1/0", got
	})
	wantExactLines(t, k.ok("run", "first", "--image=nginx:1.25", "-n", ns), "pod/first created")
	r := k.fails("run", "second", "--image=nginx:1.25", "-n", ns)
	wantExactLines(t, r.stderr, `Error from server (Forbidden): pods "second" is forbidden: exceeded quota: one-pod, requested: pods=1, used: pods=1, limited: pods=1`)
	if got := k.ok("get", "quota", "one-pod", "-n", ns, "-o", "jsonpath={.status.used.pods}"); got != "1" {
		t.Errorf("quota used pods = %q, want 1", got)
	}
	if out := k.ok("describe", "quota", "one-pod", "-n", ns); !regexp.MustCompile(`(?m)^pods\s+1\s+1$`).MatchString(out) {
		t.Errorf("kubectl describe quota: want a line \"pods  1  1\" (used, hard); got:\n%s", out)
	}

	wantExactLines(t, k.ok("delete", "pod", "first", "-n", ns), `pod "first" deleted`)
	eventually(t, settleDeadline, "quota usage to drop to 0", func() (bool, string) {
		got := k.ok("get", "quota", "one-pod", "-n", ns, "-o", "jsonpath={.status.used.pods}")
		return got == "0", got
	})
	wantExactLines(t, k.ok("run", "second", "--image=nginx:1.25", "-n", ns), "pod/second created")
}

// scenarioCascadingDelete: deleting a Deployment in the background removes
// its ReplicaSet and pods after it; in the foreground, before it (kubectl
// returns once they are gone); orphaning leaves them, without the owner
// reference.
func scenarioCascadingDelete(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-cascade")
	for _, name := range []string{"background", "foreground", "orphan"} {
		wantExactLines(t, k.ok("create", "deployment", name, "--image=nginx:1.25", "--replicas=2", "-n", ns), "deployment.apps/"+name+" created")
	}
	for _, name := range []string{"background", "foreground", "orphan"} {
		k.waitRunning(ns, "app="+name, 2)
	}
	owned := func(name string) (rs, pods string) {
		rs = k.ok("get", "replicasets", "-n", ns, "-l", "app="+name, "-o", `jsonpath={range .items[*]}{.metadata.name}:{.metadata.ownerReferences[*].name}{" "}{end}`)
		pods = k.ok("get", "pods", "-n", ns, "-l", "app="+name, "-o", `jsonpath={range .items[*]}{.metadata.name}{" "}{end}`)
		return strings.TrimSpace(rs), strings.TrimSpace(pods)
	}

	// Background: the Deployment goes at once, the rest after it.
	wantExactLines(t, k.ok("delete", "deployment", "background", "-n", ns), `deployment.apps "background" deleted`)
	eventually(t, settleDeadline, "the ReplicaSet and pods of deployment background to be deleted", func() (bool, string) {
		rs, pods := owned("background")
		return rs == "" && pods == "", "replicasets: " + rs + "\npods: " + pods
	})

	// Foreground: the Deployment is removed only after its dependents, so
	// once kubectl (which waits for the deletion) returns they are gone.
	wantExactLines(t, k.ok("delete", "deployment", "foreground", "--cascade=foreground", "-n", ns), `deployment.apps "foreground" deleted`)
	if rs, pods := owned("foreground"); rs != "" || pods != "" {
		t.Errorf("foreground deletion returned while dependents remain:\nreplicasets: %s\npods: %s", rs, pods)
	}

	// Orphan: the ReplicaSet stays, without its owner reference, and keeps
	// its pods.
	rsBefore, podsBefore := owned("orphan")
	wantExactLines(t, k.ok("delete", "deployment", "orphan", "--cascade=orphan", "-n", ns), `deployment.apps "orphan" deleted`)
	rsName, _, _ := strings.Cut(rsBefore, ":")
	if rs, pods := owned("orphan"); rs != rsName+":" || pods != podsBefore {
		t.Errorf("after deleting deployment orphan with --cascade=orphan:\nreplicasets (name:owners) %q, want %q\npods %q, want %q", rs, rsName+":", pods, podsBefore)
	}
	// And orphaning the pods of the ReplicaSet leaves them running, free.
	wantExactLines(t, k.ok("delete", "replicaset", rsName, "--cascade=orphan", "-n", ns), `replicaset.apps "`+rsName+`" deleted`)
	pods := k.waitRunning(ns, "app=orphan", 2)
	for _, p := range pods {
		if p.owner != "/" {
			t.Errorf("pod %s after its ReplicaSet was deleted with --cascade=orphan: owner %q, want none", p.name, p.owner)
		}
	}
	if got := podNames(pods); got != podsBefore {
		t.Errorf("orphaned pods %q, want the same pods %q", got, podsBefore)
	}
}

func podNames(pods []podInfo) string {
	var names []string
	for _, p := range pods {
		names = append(names, p.name)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// scenarioNamespaceDelete: deleting a namespace deletes everything in it,
// then the namespace.
func scenarioNamespaceDelete(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-nsdelete")
	k.write("stuff.yaml", nsManifest(ns, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: doomed
  namespace: __NS__
  labels: {e2e: nsdelete}
spec:
  replicas: 2
  selector:
    matchLabels: {e2e: nsdelete}
  template:
    metadata:
      labels: {e2e: nsdelete}
    spec:
      containers:
      - name: c
        image: nginx:1.25
---
apiVersion: v1
kind: Service
metadata:
  name: doomed
  namespace: __NS__
  labels: {e2e: nsdelete}
spec:
  selector: {e2e: nsdelete}
  ports:
  - port: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: doomed
  namespace: __NS__
  labels: {e2e: nsdelete}
data: {a: b}
`))
	wantExactLines(t, k.ok("apply", "-f", "stuff.yaml"), "deployment.apps/doomed created", "service/doomed created", "configmap/doomed created")
	k.waitRunning(ns, "e2e=nsdelete", 2)
	// What the controllers put in every namespace is there too.
	eventually(t, settleDeadline, "ConfigMap kube-root-ca.crt in "+ns, func() (bool, string) {
		r := k.run("get", "configmap", "kube-root-ca.crt", "-n", ns, "-o", "name")
		return r.code == 0, r.String()
	})

	wantExactLines(t, k.ok("delete", "namespace", ns), `namespace "`+ns+`" deleted`)
	r := k.fails("get", "namespace", ns)
	wantExactLines(t, r.stderr, `Error from server (NotFound): namespaces "`+ns+`" not found`)
	// Nothing of it is left anywhere.
	out := k.ok("get", "deployments,replicasets,pods,services,endpoints,configmaps,serviceaccounts,events", "-A",
		"--field-selector", "metadata.namespace="+ns, "-o", "name")
	if strings.TrimSpace(out) != "" {
		t.Errorf("objects of deleted namespace %s remain:\n%s", ns, out)
	}
}

// scenarioNodeIPAM: every node gets its own /24 pod range out of the
// cluster CIDR (10.42.0.0/16 by default), as kube-controller-manager's
// node IPAM does with --allocate-node-cidrs.
func scenarioNodeIPAM(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	cluster := netip.MustParsePrefix("10.42.0.0/16")
	eventually(t, settleDeadline, "every node to have its own /24 of 10.42.0.0/16", func() (bool, string) {
		out := k.ok("get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name}={.spec.podCIDR} {.spec.podCIDRs[*]}{"\n"}{end}`)
		seen := map[netip.Prefix]bool{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			_, cidrs, _ := strings.Cut(line, "=")
			f := strings.Fields(cidrs)
			if len(f) != 2 || f[0] != f[1] {
				return false, out
			}
			p, err := netip.ParsePrefix(f[0])
			if err != nil || p.Bits() != 24 || !cluster.Contains(p.Addr()) || p.Masked() != p || seen[p] {
				return false, out
			}
			seen[p] = true
		}
		return len(seen) == len(c.nodes), out
	})
}
