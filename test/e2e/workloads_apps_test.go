package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: __NS__
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
`

// scenarioDeployment: a Deployment of 3 spreads over the 3 nodes, scales
// up and down, rolls out a new image within maxSurge and maxUnavailable
// (checked on every pod event kubectl's watch reports), keeps two
// revisions and rolls back with `rollout undo`.
func scenarioDeployment(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-deployment")
	k.write("web.yaml", nsManifest(ns, webDeployment))
	wantExactLines(t, k.ok("apply", "-f", "web.yaml"), "deployment.apps/web created")
	rolloutStatus(t, k, ns, "deployment/web", `deployment "web" successfully rolled out`)
	k.waitRunning(ns, "app=web", 3)
	scaled := regexp.MustCompile(`(?m)^\s+Normal\s+ScalingReplicaSet\s+.*\s+deployment-controller\s+Scaled up replica set web-[a-z0-9]+ from 0 to 3$`)
	eventually(t, settleDeadline, "the deployment's ScalingReplicaSet event in kubectl describe", func() (bool, string) {
		out := k.ok("describe", "deployment", "web", "-n", ns)
		return scaled.MatchString(out), out
	})

	// Three replicas on three empty nodes: one per node, as kubectl shows.
	wide := parseTable(t, k.ok("get", "pods", "-n", ns, "-l", "app=web", "-o", "wide"))
	wide.wantHeader(t, "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
	nodes := map[string]bool{}
	for _, r := range wide.rows {
		if r["READY"] != "1/1" || r["STATUS"] != "Running" || r["IP"] == "<none>" {
			t.Errorf("pod %s: READY %q STATUS %q IP %q, want 1/1 Running with an IP", r["NAME"], r["READY"], r["STATUS"], r["IP"])
		}
		nodes[r["NODE"]] = true
	}
	if len(wide.rows) != 3 || len(nodes) != 3 || nodes["<none>"] {
		t.Errorf("3 replicas on 3 nodes: want 3 distinct NODE values, got %v in\n%v", nodes, wide.rows)
	}

	// Scale up, then down.
	for _, n := range []int{6, 4} {
		wantExactLines(t, k.ok("scale", "deployment/web", "--replicas="+strconv.Itoa(n), "-n", ns), "deployment.apps/web scaled")
		rolloutStatus(t, k, ns, "deployment/web", `deployment "web" successfully rolled out`)
		k.waitRunning(ns, "app=web", n)
		parseTable(t, k.ok("get", "deployment", "web", "-n", ns)).wantRow(t, "web", map[string]string{
			"READY": fmt.Sprintf("%d/%d", n, n), "UP-TO-DATE": strconv.Itoa(n), "AVAILABLE": strconv.Itoa(n)})
	}

	// Roll out a new image while watching the pods: with 4 replicas,
	// maxSurge 1 and maxUnavailable 1 there are never more than 5 pods
	// (not counting those being deleted) and never fewer than 3 Ready.
	const replicas, maxSurge, maxUnavailable = 4, 1, 1
	before := k.waitRunning(ns, "app=web", replicas)
	var (
		violations      []string
		primed, sawNew  bool
		maxLive, minRdy = 0, replicas
	)
	w, stop := k.watchPods(ns, "app=web", func(event string, p podInfo, pods map[string]podInfo) {
		if !primed {
			// Until the watch has listed every pod, counts mean nothing.
			primed = true
			for _, b := range before {
				if _, ok := pods[b.name]; !ok {
					primed = false
				}
			}
			if !primed {
				return
			}
		}
		if p.image == "nginx:1.26" {
			sawNew = true
		}
		live, ready := 0, 0
		for _, q := range pods {
			if q.deleting == "" {
				live++
				if q.ready == "True" {
					ready++
				}
			}
		}
		maxLive, minRdy = max(maxLive, live), min(minRdy, ready)
		if live > replicas+maxSurge || ready < replicas-maxUnavailable {
			violations = append(violations, fmt.Sprintf("after %s %s: %d pods, %d Ready:\n%s", event, p.name, live, ready, describePodMap(pods)))
		}
	})
	wantExactLines(t, k.ok("set", "image", "deployment/web", "web=nginx:1.26", "-n", ns), "deployment.apps/web image updated")
	rolloutStatus(t, k, ns, "deployment/web", `deployment "web" successfully rolled out`)
	after := k.waitRunning(ns, "app=web", replicas)
	stop()
	for _, p := range after {
		if p.image != "nginx:1.26" {
			t.Errorf("after the rollout: pod %s runs %s, want nginx:1.26", p.name, p.image)
		}
	}
	if !sawNew {
		t.Errorf("the watch saw no pod of the new image; events:\n%s", w.log())
	}
	reportViolations(t, fmt.Sprintf("rollout beyond maxSurge %d / maxUnavailable %d of %d replicas", maxSurge, maxUnavailable, replicas), violations)
	t.Logf("during the rollout: at most %d pods, at least %d Ready", maxLive, minRdy)

	// Two revisions, the second with the new image.
	wantExactLines(t, k.ok("rollout", "history", "deployment/web", "-n", ns),
		"deployment.apps/web", "REVISION  CHANGE-CAUSE", "1         <none>", "2         <none>")
	wantContains(t, k.ok("rollout", "history", "deployment/web", "-n", ns, "--revision=2"),
		"deployment.apps/web with revision #2", "Image:\tnginx:1.26")

	// Undo goes back to the first template, which becomes revision 3.
	wantExactLines(t, k.ok("rollout", "undo", "deployment/web", "-n", ns), "deployment.apps/web rolled back")
	rolloutStatus(t, k, ns, "deployment/web", `deployment "web" successfully rolled out`)
	if got := k.ok("get", "deployment", "web", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}"); got != "nginx:1.25" {
		t.Errorf("after rollout undo the template's image is %q, want nginx:1.25", got)
	}
	eventually(t, settleDeadline, "every pod back on nginx:1.25", func() (bool, string) {
		pods := k.pods(ns, "app=web")
		if len(pods) != replicas {
			return false, describePods(pods)
		}
		for _, p := range pods {
			if p.image != "nginx:1.25" || p.deleting != "" || p.ready != "True" {
				return false, describePods(pods)
			}
		}
		return true, ""
	})
	wantExactLines(t, k.ok("rollout", "history", "deployment/web", "-n", ns),
		"deployment.apps/web", "REVISION  CHANGE-CAUSE", "2         <none>", "3         <none>")
}

func describePodMap(pods map[string]podInfo) string {
	var list []podInfo
	for _, p := range pods {
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	return describePods(list)
}

// scenarioReplacedPod: a ReplicaSet replaces a pod that is deleted.
func scenarioReplacedPod(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-replace")
	k.write("keeper.yaml", nsManifest(ns, `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: keeper
  namespace: __NS__
spec:
  replicas: 2
  selector:
    matchLabels: {app: keeper}
  template:
    metadata:
      labels: {app: keeper}
    spec:
      containers:
      - name: c
        image: nginx:1.25
`))
	wantExactLines(t, k.ok("apply", "-f", "keeper.yaml"), "replicaset.apps/keeper created")
	pods := k.waitRunning(ns, "app=keeper", 2)
	victim, survivor := pods[0].name, pods[1].name
	wantExactLines(t, k.ok("delete", "pod", victim, "-n", ns), `pod "`+victim+`" deleted`)
	now := k.waitRunning(ns, "app=keeper", 2)
	names := map[string]podInfo{}
	for _, p := range now {
		names[p.name] = p
		if p.owner != "ReplicaSet/keeper" {
			t.Errorf("pod %s is owned by %q, want ReplicaSet/keeper", p.name, p.owner)
		}
	}
	if _, ok := names[victim]; ok {
		t.Errorf("deleted pod %s is back:\n%s", victim, describePods(now))
	}
	if _, ok := names[survivor]; !ok {
		t.Errorf("pod %s that was not deleted is gone:\n%s", survivor, describePods(now))
	}
	parseTable(t, k.ok("get", "replicaset", "keeper", "-n", ns)).wantRow(t, "keeper", map[string]string{
		"DESIRED": "2", "CURRENT": "2", "READY": "2"})
}

// scenarioStatefulSet: web-0, web-1 and web-2 are created one at a time,
// each once the one before is Ready (OrderedReady), with stable network
// identities; scaling down removes them from the highest ordinal, one at
// a time.
func scenarioStatefulSet(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-statefulset")
	k.write("web.yaml", nsManifest(ns, `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: __NS__
spec:
  clusterIP: None
  selector: {app: web-sts}
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: __NS__
spec:
  serviceName: web
  replicas: 3
  selector:
    matchLabels: {app: web-sts}
  template:
    metadata:
      labels: {app: web-sts}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
`))
	ordinal := func(name string) int {
		n, err := strconv.Atoi(strings.TrimPrefix(name, "web-"))
		if err != nil {
			return -1
		}
		return n
	}
	var created, terminated, violations []string
	w, stop := k.watchPods(ns, "app=web-sts", func(event string, p podInfo, pods map[string]podInfo) {
		n := ordinal(p.name)
		if event == "ADDED" {
			created = append(created, p.name)
			for i := 0; i < n; i++ {
				if q, ok := pods[fmt.Sprintf("web-%d", i)]; !ok || q.ready != "True" || q.deleting != "" {
					violations = append(violations, fmt.Sprintf("%s created while web-%d is not Ready:\n%s", p.name, i, describePodMap(pods)))
				}
			}
		}
		if p.deleting != "" && !slices.Contains(terminated, p.name) {
			terminated = append(terminated, p.name)
			for q := range pods {
				if ordinal(q) > n {
					violations = append(violations, fmt.Sprintf("%s deleted while %s still exists:\n%s", p.name, q, describePodMap(pods)))
				}
			}
		}
	})
	wantExactLines(t, k.ok("apply", "-f", "web.yaml"), "service/web created", "statefulset.apps/web created")
	rolloutStatus(t, k, ns, "statefulset/web", "partitioned roll out complete: 3 new pods have been updated...")
	pods := k.waitRunning(ns, "app=web-sts", 3)
	for _, p := range pods {
		if got := k.ok("get", "pod", p.name, "-n", ns, "-o", "jsonpath={.spec.hostname}.{.spec.subdomain} {.metadata.labels.statefulset\\.kubernetes\\.io/pod-name}"); got != p.name+".web "+p.name {
			t.Errorf("pod %s: hostname.subdomain and pod-name label %q, want %q", p.name, got, p.name+".web "+p.name)
		}
	}
	// Its template is recorded as a ControllerRevision, which is what
	// `kubectl rollout history` reads.
	wantExactLines(t, k.ok("rollout", "history", "statefulset/web", "-n", ns),
		"statefulset.apps/web", "REVISION  CHANGE-CAUSE", "1         <none>")
	wantExactLines(t, k.ok("scale", "statefulset/web", "--replicas=1", "-n", ns), "statefulset.apps/web scaled")
	rest := k.waitRunning(ns, "app=web-sts", 1)
	stop()
	if rest[0].name != "web-0" {
		t.Errorf("after scaling to 1, %s remains, want web-0", rest[0].name)
	}
	if strings.Join(created, " ") != "web-0 web-1 web-2" {
		t.Errorf("pods created in the order %q, want web-0 web-1 web-2; events:\n%s", created, w.log())
	}
	if strings.Join(terminated, " ") != "web-2 web-1" {
		t.Errorf("pods deleted in the order %q, want web-2 web-1; events:\n%s", terminated, w.log())
	}
	reportViolations(t, "OrderedReady", violations)
	parseTable(t, k.ok("get", "statefulset", "web", "-n", ns)).wantRow(t, "web", map[string]string{"READY": "1/1"})
}
