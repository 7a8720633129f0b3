package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// servedResource is one resource the issue requires, as `kubectl
// api-resources` shows it in Kubernetes.
type servedResource struct {
	name, shortNames, group, kind string
	namespaced                    bool
}

var issueResources = []servedResource{
	{"namespaces", "ns", "", "Namespace", false},
	{"pods", "po", "", "Pod", true},
	{"services", "svc", "", "Service", true},
	{"endpoints", "ep", "", "Endpoints", true},
	{"configmaps", "cm", "", "ConfigMap", true},
	{"secrets", "", "", "Secret", true},
	{"serviceaccounts", "sa", "", "ServiceAccount", true},
	{"nodes", "no", "", "Node", false},
	{"events", "ev", "", "Event", true},
	{"persistentvolumes", "pv", "", "PersistentVolume", false},
	{"persistentvolumeclaims", "pvc", "", "PersistentVolumeClaim", true},
	{"resourcequotas", "quota", "", "ResourceQuota", true},
	{"limitranges", "limits", "", "LimitRange", true},
	{"deployments", "deploy", "apps", "Deployment", true},
	{"replicasets", "rs", "apps", "ReplicaSet", true},
	{"daemonsets", "ds", "apps", "DaemonSet", true},
	{"statefulsets", "sts", "apps", "StatefulSet", true},
	{"controllerrevisions", "", "apps", "ControllerRevision", true},
	{"jobs", "", "batch", "Job", true},
	{"cronjobs", "cj", "batch", "CronJob", true},
	{"horizontalpodautoscalers", "hpa", "autoscaling", "HorizontalPodAutoscaler", true},
	{"ingresses", "ing", "networking.k8s.io", "Ingress", true},
	{"ingressclasses", "", "networking.k8s.io", "IngressClass", false},
	{"networkpolicies", "netpol", "networking.k8s.io", "NetworkPolicy", true},
	{"roles", "", "rbac.authorization.k8s.io", "Role", true},
	{"rolebindings", "", "rbac.authorization.k8s.io", "RoleBinding", true},
	{"clusterroles", "", "rbac.authorization.k8s.io", "ClusterRole", false},
	{"clusterrolebindings", "", "rbac.authorization.k8s.io", "ClusterRoleBinding", false},
	{"storageclasses", "sc", "storage.k8s.io", "StorageClass", false},
	{"leases", "", "coordination.k8s.io", "Lease", true},
	{"endpointslices", "", "discovery.k8s.io", "EndpointSlice", true},
	{"events", "ev", "events.k8s.io", "Event", true},
	{"poddisruptionbudgets", "pdb", "policy", "PodDisruptionBudget", true},
}

var issueGroupVersions = []string{
	"v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "networking.k8s.io/v1",
	"rbac.authorization.k8s.io/v1", "storage.k8s.io/v1", "coordination.k8s.io/v1",
	"discovery.k8s.io/v1", "events.k8s.io/v1", "policy/v1",
}

// scenarioDiscovery: api-resources, api-versions and the OpenAPI
// documents kubectl reads.
func scenarioDiscovery(t *testing.T, c Cluster) {
	k := newKubectl(t, c)

	tb := parseTable(t, k.ok("api-resources"))
	tb.wantHeader(t, "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND")
	for _, want := range issueResources {
		var found map[string]string
		for _, r := range tb.rows {
			group, _, _ := strings.Cut(r["APIVERSION"], "/")
			if !strings.Contains(r["APIVERSION"], "/") {
				group = ""
			}
			if r["NAME"] == want.name && group == want.group {
				found = r
			}
		}
		label := want.name
		if want.group != "" {
			label += "." + want.group
		}
		if found == nil {
			t.Errorf("kubectl api-resources lacks %s", label)
			continue
		}
		ns := "false"
		if want.namespaced {
			ns = "true"
		}
		if found["SHORTNAMES"] != want.shortNames || found["NAMESPACED"] != ns || found["KIND"] != want.kind {
			t.Errorf("api-resources %s: shortnames %q namespaced %s kind %s, want %q %s %s",
				label, found["SHORTNAMES"], found["NAMESPACED"], found["KIND"], want.shortNames, ns, want.kind)
		}
	}
	// The preferred autoscaling version is v2, as in Kubernetes.
	if r := tb.row(t, "NAME", "horizontalpodautoscalers"); r["APIVERSION"] != "autoscaling/v2" {
		t.Errorf("horizontalpodautoscalers preferred version %s, want autoscaling/v2", r["APIVERSION"])
	}
	wantExactLines(t, k.ok("api-resources", "--api-group=apps", "-o", "name"),
		"controllerrevisions.apps", "daemonsets.apps", "deployments.apps", "replicasets.apps", "statefulsets.apps")
	wide := parseTable(t, k.ok("api-resources", "--api-group=apps", "-o", "wide"))
	wide.wantRow(t, "deployments", map[string]string{"VERBS": "create,delete,deletecollection,get,list,patch,update,watch", "CATEGORIES": "all"})

	versions := map[string]bool{}
	for _, v := range strings.Split(strings.TrimSpace(k.ok("api-versions")), "\n") {
		versions[v] = true
	}
	for _, gv := range issueGroupVersions {
		if !versions[gv] {
			t.Errorf("kubectl api-versions lacks %s", gv)
		}
	}

	v2 := k.ok("get", "--raw", "/openapi/v2")
	if !strings.HasPrefix(v2, `{"swagger":"2.0"`) {
		t.Errorf("/openapi/v2 starts with %q", v2[:min(len(v2), 60)])
	}
	var doc struct {
		Definitions map[string]any `json:"definitions"`
		Paths       map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(v2), &doc); err != nil {
		t.Fatalf("/openapi/v2 is not JSON: %v", err)
	}
	for _, def := range []string{"io.k8s.api.apps.v1.Deployment", "io.k8s.api.core.v1.Pod", "io.k8s.api.networking.v1.Ingress", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"} {
		if doc.Definitions[def] == nil {
			t.Errorf("/openapi/v2 lacks definition %s", def)
		}
	}
	if doc.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"] == nil {
		t.Errorf("/openapi/v2 lacks the deployment path")
	}

	var v3 struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(k.ok("get", "--raw", "/openapi/v3")), &v3); err != nil {
		t.Fatalf("/openapi/v3: %v", err)
	}
	for _, gv := range []string{"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/networking.k8s.io/v1"} {
		p, ok := v3.Paths[gv]
		if !ok || p.ServerRelativeURL == "" {
			t.Errorf("/openapi/v3 lacks %s", gv)
			continue
		}
		if body := k.ok("get", "--raw", p.ServerRelativeURL); !strings.Contains(body, `"openapi":"3.0`) {
			t.Errorf("%s is not an OpenAPI 3.0 document: %.80s", p.ServerRelativeURL, body)
		}
	}
}

// everyResource is a minimal object of every kind the issue lists, with
// what `kubectl apply` prints for it and the columns `kubectl get` shows.
var everyResource = []struct {
	manifest string
	applied  string // the object as kubectl names it
	columns  []string
}{
	{"apiVersion: v1\nkind: Pod\nmetadata: {name: r-pod}\nspec:\n  containers: [{name: c, image: nginx}]\n",
		"pod/r-pod", []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}},
	{"apiVersion: v1\nkind: Service\nmetadata: {name: r-svc}\nspec:\n  ports: [{port: 80}]\n",
		"service/r-svc", []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}},
	{"apiVersion: v1\nkind: Endpoints\nmetadata: {name: r-ep}\nsubsets:\n- addresses: [{ip: 10.1.2.3}]\n  ports: [{port: 80, protocol: TCP}]\n",
		"endpoints/r-ep", []string{"NAME", "ENDPOINTS", "AGE"}},
	{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r-cm}\ndata: {a: b}\n",
		"configmap/r-cm", []string{"NAME", "DATA", "AGE"}},
	{"apiVersion: v1\nkind: Secret\nmetadata: {name: r-secret}\ndata: {a: Yg==}\n",
		"secret/r-secret", []string{"NAME", "TYPE", "DATA", "AGE"}},
	{"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: r-sa}\n",
		"serviceaccount/r-sa", []string{"NAME", "SECRETS", "AGE"}},
	{"apiVersion: v1\nkind: Node\nmetadata: {name: r-node-CLUSTER}\n",
		"node/r-node-CLUSTER", []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION"}},
	{"apiVersion: v1\nkind: Event\nmetadata: {name: r-event}\ninvolvedObject: {kind: Pod, name: r-pod, namespace: NS}\nreason: Testing\nmessage: hello\ntype: Normal\n",
		"event/r-event", []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}},
	{"apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: r-pv-CLUSTER}\nspec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /tmp/r-pv}\n",
		"persistentvolume/r-pv-CLUSTER", []string{"NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"}},
	{"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: r-pvc}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n",
		"persistentvolumeclaim/r-pvc", []string{"NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"}},
	{"apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: r-quota}\nspec:\n  hard: {pods: \"10\"}\n",
		"resourcequota/r-quota", []string{"NAME", "REQUEST", "LIMIT", "AGE"}},
	{"apiVersion: v1\nkind: LimitRange\nmetadata: {name: r-limits}\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 100m}\n    defaultRequest: {cpu: 50m}\n",
		"limitrange/r-limits", []string{"NAME", "CREATED AT"}},
	{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: r-deploy}\nspec:\n  selector: {matchLabels: {app: r}}\n  template:\n    metadata: {labels: {app: r}}\n    spec:\n      containers: [{name: c, image: nginx}]\n",
		"deployment.apps/r-deploy", []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}},
	{"apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r-rs}\nspec:\n  selector: {matchLabels: {app: r}}\n  template:\n    metadata: {labels: {app: r}}\n    spec:\n      containers: [{name: c, image: nginx}]\n",
		"replicaset.apps/r-rs", []string{"NAME", "DESIRED", "CURRENT", "READY", "AGE"}},
	{"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: r-ds}\nspec:\n  selector: {matchLabels: {app: r}}\n  template:\n    metadata: {labels: {app: r}}\n    spec:\n      containers: [{name: c, image: nginx}]\n",
		"daemonset.apps/r-ds", []string{"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"}},
	{"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: r-sts}\nspec:\n  serviceName: r-svc\n  selector: {matchLabels: {app: r}}\n  template:\n    metadata: {labels: {app: r}}\n    spec:\n      containers: [{name: c, image: nginx}]\n",
		"statefulset.apps/r-sts", []string{"NAME", "READY", "AGE"}},
	{"apiVersion: apps/v1\nkind: ControllerRevision\nmetadata: {name: r-rev}\nrevision: 1\ndata: {}\n",
		"controllerrevision.apps/r-rev", []string{"NAME", "CONTROLLER", "REVISION", "AGE"}},
	{"apiVersion: batch/v1\nkind: Job\nmetadata: {name: r-job}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]\n",
		"job.batch/r-job", []string{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"}},
	{"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: r-cron}\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers: [{name: c, image: busybox}]\n",
		"cronjob.batch/r-cron", []string{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"}},
	{"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: r-hpa}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: r-deploy}\n  minReplicas: 1\n  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n",
		"horizontalpodautoscaler.autoscaling/r-hpa", []string{"NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"}},
	{"apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: r-hpa-v1}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: r-deploy}\n  maxReplicas: 2\n  targetCPUUtilizationPercentage: 70\n",
		"horizontalpodautoscaler.autoscaling/r-hpa-v1", []string{"NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"}},
	{"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: r-ing}\nspec:\n  defaultBackend:\n    service: {name: r-svc, port: {number: 80}}\n",
		"ingress.networking.k8s.io/r-ing", []string{"NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"}},
	{"apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: r-class-CLUSTER}\nspec: {controller: example.com/ingress}\n",
		"ingressclass.networking.k8s.io/r-class-CLUSTER", []string{"NAME", "CONTROLLER", "PARAMETERS", "AGE"}},
	{"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: r-netpol}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
		"networkpolicy.networking.k8s.io/r-netpol", []string{"NAME", "POD-SELECTOR", "AGE"}},
	{"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r-role}\nrules:\n- {apiGroups: [\"\"], resources: [pods], verbs: [get]}\n",
		"role.rbac.authorization.k8s.io/r-role", []string{"NAME", "CREATED AT"}},
	{"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: r-rb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r-role}\nsubjects:\n- {kind: User, name: jane, apiGroup: rbac.authorization.k8s.io}\n",
		"rolebinding.rbac.authorization.k8s.io/r-rb", []string{"NAME", "ROLE", "AGE"}},
	{"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r-cr-CLUSTER}\nrules:\n- {apiGroups: [\"\"], resources: [nodes], verbs: [list]}\n",
		"clusterrole.rbac.authorization.k8s.io/r-cr-CLUSTER", []string{"NAME", "CREATED AT"}},
	{"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: r-crb-CLUSTER}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r-cr-CLUSTER}\nsubjects:\n- {kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}\n",
		"clusterrolebinding.rbac.authorization.k8s.io/r-crb-CLUSTER", []string{"NAME", "ROLE", "AGE"}},
	{"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: r-sc-CLUSTER}\nprovisioner: example.com/none\n",
		"storageclass.storage.k8s.io/r-sc-CLUSTER", []string{"NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"}},
	{"apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: r-lease}\nspec: {holderIdentity: me, leaseDurationSeconds: 15}\n",
		"lease.coordination.k8s.io/r-lease", []string{"NAME", "HOLDER", "AGE"}},
	{"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: r-slice, labels: {kubernetes.io/service-name: r-svc}}\naddressType: IPv4\nendpoints:\n- addresses: [10.1.2.3]\n  conditions: {ready: true}\nports:\n- {name: http, port: 80, protocol: TCP}\n",
		"endpointslice.discovery.k8s.io/r-slice", []string{"NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"}},
	{"apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: r-event2}\neventTime: \"2025-01-01T00:00:00.000000Z\"\nreportingController: example.com/e2e\nreportingInstance: e2e-1\naction: Testing\nreason: Testing\nregarding: {kind: Pod, name: r-pod, namespace: NS}\nnote: hello\ntype: Normal\n",
		"event.events.k8s.io/r-event2", []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}},
	{"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: r-pdb}\nspec:\n  minAvailable: 1\n  selector: {matchLabels: {app: r}}\n",
		"poddisruptionbudget.policy/r-pdb", []string{"NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"}},
}

// scenarioEveryResource applies a minimal object of every kind, reads it
// back with kubectl get (server-side table columns as in Kubernetes), and
// deletes it.
func scenarioEveryResource(t *testing.T, c Cluster) {
	k := newKubectl(t, c)
	ns := k.namespace("e2e-every")
	for _, r := range everyResource {
		resourceType, name, _ := strings.Cut(strings.ReplaceAll(r.applied, "CLUSTER", ns), "/")
		t.Run(resourceType, func(t *testing.T) {
			k := newKubectl(t, c)
			file := k.write("obj.yaml", strings.ReplaceAll(strings.ReplaceAll(r.manifest, "CLUSTER", ns), "NS", ns))
			wantExactLines(t, k.ok("apply", "-f", file, "-n", ns), resourceType+"/"+name+" created")
			tb := parseTable(t, k.ok("get", resourceType, name, "-n", ns))
			tb.wantHeader(t, r.columns...)
			if len(tb.rows) != 1 {
				t.Errorf("kubectl get %s %s: %d rows, want 1", resourceType, name, len(tb.rows))
			}
			wantExactLines(t, k.ok("get", resourceType, "-n", ns, "-o", "name", "--field-selector", "metadata.name="+name), resourceType+"/"+name)
			// Re-applying the same manifest sends no patch, except where
			// the schema makes kubectl always send one (as with Kubernetes):
			// a PodDisruptionBudget's selector has patchStrategy "replace".
			again := "unchanged"
			if resourceType == "poddisruptionbudget.policy" {
				again = "configured"
			}
			wantExactLines(t, k.ok("apply", "-f", file, "-n", ns), resourceType+"/"+name+" "+again)
			wantExactLines(t, k.ok("delete", "-f", file, "-n", ns), resourceType+` "`+name+`" deleted`)
			gone := k.fails("get", resourceType, name, "-n", ns)
			wantContains(t, gone.stderr, "Error from server (NotFound): ", ` "`+name+`" not found`)
		})
	}
}
