package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// scenarioServices runs runServices on TestNodeAgent's node.
func scenarioServices(t *testing.T, c *nodeCluster) { runServices(t, c) }

// runServices: pods reach a Service by ClusterIP, short name and full
// DNS name through the Service proxy and the cluster DNS; requests spread
// over the replicas (on different nodes when there are several); the host
// reaches ClusterIPs and every node's NodePort; nslookup answers for
// ClusterIP, headless and ExternalName Services; ClientIP affinity pins a
// client to one replica; a LoadBalancer Service gets the nodes' addresses
// and answers on them.
func runServices(t *testing.T, c serviceCluster) {
	k, ns := c.scenario(t, "node-services")
	k.apply(ns, "services.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: __NS__}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
`+c.spread("web")+`      containers:
      - {name: echo, image: `+echoImage+`}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: __NS__}
spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-np, namespace: __NS__}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-headless, namespace: __NS__}
spec: {clusterIP: None, selector: {app: web}, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-sticky, namespace: __NS__}
spec: {selector: {app: web}, sessionAffinity: ClientIP, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-lb, namespace: __NS__}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 18088, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-alias, namespace: __NS__}
spec: {type: ExternalName, externalName: web.__NS__.svc.cluster.local}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: __NS__}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: `+busyboxImage+`, command: [sleep, "3600"]}
`, "deployment.apps/web created", "service/web created", "service/web-np created", "service/web-headless created",
		"service/web-sticky created", "service/web-lb created", "service/web-alias created", "pod/client created")
	k.ok("rollout", "status", "deployment/web", "-n", ns, podTimeout())
	k.waitPodReady(ns, "client")
	requireSpread(t, c, k, ns, "web")
	clusterIP := k.get(ns, "service/web", "{.spec.clusterIP}")
	fqdn := "web." + ns + ".svc.cluster.local"
	for _, target := range []string{clusterIP, "web", fqdn} {
		eventually(t, podDeadline, "client reaches the Service at "+target, func() (bool, string) {
			r := k.run("exec", "-n", ns, "client", "--", "timeout", "5", "wget", "-qO-", "http://"+target+"/")
			return r.code == 0 && strings.Contains(r.stdout, "hostname=web-"), r.String()
		})
	}
	// Requests spread over both replicas.
	seen := map[string]bool{}
	eventually(t, podDeadline, "requests reach both replicas", func() (bool, string) {
		out := k.run("exec", "-n", ns, "client", "--", "sh", "-c",
			"for i in 1 2 3 4 5 6 7 8 9 10 11 12; do timeout 5 wget -qO- http://web/ | grep hostname=; done").stdout
		for _, l := range strings.Fields(out) {
			seen[l] = true
		}
		return len(seen) >= 2, fmt.Sprint(seen)
	})
	// ClientIP affinity pins the client to one replica.
	eventually(t, podDeadline, "ClientIP affinity keeps one replica", func() (bool, string) {
		out := k.run("exec", "-n", ns, "client", "--", "sh", "-c",
			"for i in 1 2 3 4 5 6 7 8 9 10; do timeout 5 wget -qO- http://web-sticky/ | grep hostname=; done").stdout
		got := map[string]bool{}
		for _, l := range strings.Fields(out) {
			got[l] = true
		}
		return len(got) == 1 && len(strings.Fields(out)) == 10, out
	})
	// The cluster DNS answers for the API server's Service and for every
	// pod of a headless Service.
	kubeIP := k.get("default", "service/kubernetes", "{.spec.clusterIP}")
	eventually(t, podDeadline, "nslookup kubernetes.default", func() (bool, string) {
		r := k.run("exec", "-n", ns, "client", "--", "nslookup", "kubernetes.default.svc.cluster.local")
		return r.code == 0 && strings.Contains(r.stdout, kubeIP), r.String()
	})
	podIPs := strings.Fields(k.get(ns, "pods", `{range .items[?(@.metadata.labels.app=="web")]}{.status.podIP} {end}`))
	eventually(t, podDeadline, "nslookup of the headless Service returns every pod IP", func() (bool, string) {
		r := k.run("exec", "-n", ns, "client", "--", "nslookup", "web-headless."+ns+".svc.cluster.local")
		for _, ip := range podIPs {
			if !strings.Contains(r.stdout, ip) {
				return false, r.String()
			}
		}
		return r.code == 0 && len(podIPs) == 2, r.String()
	})
	eventually(t, podDeadline, "nslookup of an ExternalName Service gives its CNAME", func() (bool, string) {
		r := k.run("exec", "-n", ns, "client", "--", "nslookup", "web-alias."+ns+".svc.cluster.local")
		return r.code == 0 && strings.Contains(r.stdout, "canonical name = "+fqdn) && strings.Contains(r.stdout, clusterIP), r.String()
	})
	// The host reaches the ClusterIP, and the NodePort on every node's
	// address.
	wantContains(t, hostGetOK(t, c, "http://"+clusterIP+"/", podDeadline), "hostname=web-")
	nodePort := k.get(ns, "service/web-np", "{.spec.ports[0].nodePort}")
	nodeIPs := c.nodeIPs(k)
	for _, ip := range nodeIPs {
		wantContains(t, hostGetOK(t, c, "http://"+ip+":"+nodePort+"/", podDeadline), "hostname=web-")
	}
	// The built-in service load balancer gives the LoadBalancer Service the
	// nodes' addresses, and it answers there on the Service's port.
	want := slices.Sorted(slices.Values(nodeIPs))
	eventually(t, podDeadline, "LoadBalancer ingress is the nodes' addresses", func() (bool, string) {
		got := slices.Sorted(slices.Values(strings.Fields(k.get(ns, "service/web-lb", "{.status.loadBalancer.ingress[*].ip}"))))
		return slices.Equal(got, want), fmt.Sprintf("%v, want %v", got, want)
	})
	for _, ip := range nodeIPs {
		wantContains(t, hostGetOK(t, c, "http://"+ip+":18088/", podDeadline), "hostname=web-")
	}
}
