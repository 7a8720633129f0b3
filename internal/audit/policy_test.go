package audit

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
)

func resourceAttrs(u *user.Info, verb, group, resource, sub, ns, name string) authorizer.Attributes {
	return authorizer.Attributes{User: u, Verb: verb, ResourceRequest: true, APIGroup: group, APIVersion: "v1",
		Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}

func pathAttrs(u *user.Info, verb, path string) authorizer.Attributes {
	return authorizer.Attributes{User: u, Verb: verb, Path: path}
}

func TestRuleMatches(t *testing.T) {
	alice := &user.Info{Name: "alice", Groups: []string{"dev", user.AllAuthenticated}}
	bob := &user.Info{Name: "bob", Groups: []string{"ops"}}
	tests := []struct {
		name string
		rule PolicyRule
		attr authorizer.Attributes
		want bool
	}{
		{"empty rule matches resources", PolicyRule{}, resourceAttrs(alice, "get", "", "pods", "", "ns", "p"), true},
		{"empty rule matches paths", PolicyRule{}, pathAttrs(alice, "get", "/metrics"), true},
		{"user listed", PolicyRule{Users: []string{"alice"}}, resourceAttrs(alice, "get", "", "pods", "", "", ""), true},
		{"user not listed", PolicyRule{Users: []string{"alice"}}, resourceAttrs(bob, "get", "", "pods", "", "", ""), false},
		{"users need a user", PolicyRule{Users: []string{"alice"}}, resourceAttrs(nil, "get", "", "pods", "", "", ""), false},
		{"group listed", PolicyRule{UserGroups: []string{"ops", "dev"}}, resourceAttrs(alice, "get", "", "pods", "", "", ""), true},
		{"group not listed", PolicyRule{UserGroups: []string{"dev"}}, resourceAttrs(bob, "get", "", "pods", "", "", ""), false},
		{"verb listed", PolicyRule{Verbs: []string{"watch", "get"}}, resourceAttrs(alice, "get", "", "pods", "", "", ""), true},
		{"verb not listed", PolicyRule{Verbs: []string{"watch"}}, resourceAttrs(alice, "get", "", "pods", "", "", ""), false},
		{"namespace listed", PolicyRule{Namespaces: []string{"kube-system"}}, resourceAttrs(alice, "get", "", "pods", "", "kube-system", "p"), true},
		{"namespace not listed", PolicyRule{Namespaces: []string{"kube-system"}}, resourceAttrs(alice, "get", "", "pods", "", "default", "p"), false},
		{"empty namespace is cluster scope", PolicyRule{Namespaces: []string{""}}, resourceAttrs(alice, "get", "", "nodes", "", "", "n"), true},
		{"namespaces never match paths", PolicyRule{Namespaces: []string{""}}, pathAttrs(alice, "get", "/api"), false},
		{"resource in group", PolicyRule{Resources: []GroupResources{{Group: "apps", Resources: []string{"deployments"}}}},
			resourceAttrs(alice, "get", "apps", "deployments", "", "ns", "d"), true},
		{"resource other group", PolicyRule{Resources: []GroupResources{{Group: "", Resources: []string{"deployments"}}}},
			resourceAttrs(alice, "get", "apps", "deployments", "", "ns", "d"), false},
		{"whole group", PolicyRule{Resources: []GroupResources{{Group: "apps"}}},
			resourceAttrs(alice, "get", "apps", "replicasets", "scale", "ns", "d"), true},
		{"plain resource does not match subresource", PolicyRule{Resources: []GroupResources{{Resources: []string{"pods"}}}},
			resourceAttrs(alice, "get", "", "pods", "log", "ns", "p"), false},
		{"resource/sub", PolicyRule{Resources: []GroupResources{{Resources: []string{"pods/log"}}}},
			resourceAttrs(alice, "get", "", "pods", "log", "ns", "p"), true},
		{"resource/sub not the resource", PolicyRule{Resources: []GroupResources{{Resources: []string{"pods/log"}}}},
			resourceAttrs(alice, "get", "", "pods", "", "ns", "p"), false},
		{"resource/*", PolicyRule{Resources: []GroupResources{{Resources: []string{"pods/*"}}}},
			resourceAttrs(alice, "create", "", "pods", "exec", "ns", "p"), true},
		{"*/status", PolicyRule{Resources: []GroupResources{{Resources: []string{"*/status"}}}},
			resourceAttrs(alice, "update", "", "nodes", "status", "", "n"), true},
		{"*/status not other subresource", PolicyRule{Resources: []GroupResources{{Resources: []string{"*/status"}}}},
			resourceAttrs(alice, "update", "", "nodes", "proxy", "", "n"), false},
		{"*/status not main resource", PolicyRule{Resources: []GroupResources{{Resources: []string{"*/status"}}}},
			resourceAttrs(alice, "update", "", "nodes", "", "", "n"), false},
		{"* includes subresources", PolicyRule{Resources: []GroupResources{{Resources: []string{"*"}}}},
			resourceAttrs(alice, "get", "", "pods", "log", "ns", "p"), true},
		{"resourceNames match", PolicyRule{Resources: []GroupResources{{Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}}},
			resourceAttrs(alice, "get", "", "configmaps", "", "ns", "a"), true},
		{"resourceNames no match", PolicyRule{Resources: []GroupResources{{Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}}},
			resourceAttrs(alice, "get", "", "configmaps", "", "ns", "b"), false},
		{"resources never match paths", PolicyRule{Resources: []GroupResources{{Resources: []string{"*"}}}}, pathAttrs(alice, "get", "/api"), false},
		{"exact path", PolicyRule{NonResourceURLs: []string{"/version"}}, pathAttrs(alice, "get", "/version"), true},
		{"exact path no prefix", PolicyRule{NonResourceURLs: []string{"/version"}}, pathAttrs(alice, "get", "/versionx"), false},
		{"path prefix", PolicyRule{NonResourceURLs: []string{"/healthz*"}}, pathAttrs(alice, "get", "/healthz/etcd"), true},
		{"path prefix bare", PolicyRule{NonResourceURLs: []string{"/healthz*"}}, pathAttrs(alice, "get", "/healthz"), true},
		{"path prefix other", PolicyRule{NonResourceURLs: []string{"/healthz*"}}, pathAttrs(alice, "get", "/livez"), false},
		{"path star", PolicyRule{NonResourceURLs: []string{"*"}}, pathAttrs(alice, "post", "/anything"), true},
		{"paths never match resources", PolicyRule{NonResourceURLs: []string{"*"}}, resourceAttrs(alice, "get", "", "pods", "", "", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ruleMatches(&tt.rule, tt.attr); got != tt.want {
				t.Errorf("ruleMatches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvaluateFirstMatchWinsAndMergesOptions(t *testing.T) {
	no := false
	p := &Policy{
		OmitStages:        []Stage{StageRequestReceived},
		OmitManagedFields: true,
		Rules: []PolicyRule{
			{Level: LevelRequestResponse, Resources: []GroupResources{{Resources: []string{"configmaps"}}}, OmitStages: []Stage{StageResponseStarted}, OmitManagedFields: &no},
			{Level: LevelNone, Resources: []GroupResources{{Resources: []string{"configmaps", "secrets"}}}},
			{Level: LevelMetadata, Verbs: []string{"get"}},
		},
	}
	u := &user.Info{Name: "alice"}
	got := p.Evaluate(resourceAttrs(u, "get", "", "configmaps", "", "ns", "c"))
	if got.Level != LevelRequestResponse || got.OmitManagedFields || !slices.Equal(got.OmitStages, []Stage{StageRequestReceived, StageResponseStarted}) {
		t.Errorf("configmaps: %+v", got)
	}
	if got := p.Evaluate(resourceAttrs(u, "get", "", "secrets", "", "ns", "s")); got.Level != LevelNone {
		t.Errorf("secrets: %+v, want None", got)
	}
	got = p.Evaluate(resourceAttrs(u, "get", "", "pods", "", "ns", "p"))
	if got.Level != LevelMetadata || !got.OmitManagedFields || !slices.Equal(got.OmitStages, []Stage{StageRequestReceived}) {
		t.Errorf("pods: %+v", got)
	}
	if got := p.Evaluate(resourceAttrs(u, "delete", "", "pods", "", "ns", "p")); got.Level != LevelNone {
		t.Errorf("no rule matches: %+v, want None", got)
	}
	// A rule's stages must not leak into the policy's slice.
	if len(p.OmitStages) != 1 {
		t.Errorf("policy omitStages changed: %v", p.OmitStages)
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	node := &user.Info{Name: "system:node:n1", Groups: []string{user.NodesGroup}}
	tests := []struct {
		name string
		attr authorizer.Attributes
		want Level
	}{
		{"healthz", pathAttrs(nil, "get", "/healthz"), LevelNone},
		{"readyz check", pathAttrs(nil, "get", "/readyz/etcd"), LevelNone},
		{"livez", pathAttrs(nil, "get", "/livez"), LevelNone},
		{"version", pathAttrs(nil, "get", "/version"), LevelNone},
		{"metrics", pathAttrs(node, "get", "/metrics"), LevelMetadata},
		{"lease renew", resourceAttrs(node, "update", "coordination.k8s.io", "leases", "", "kube-node-lease", "n1"), LevelNone},
		{"lease read", resourceAttrs(node, "get", "coordination.k8s.io", "leases", "", "kube-node-lease", "n1"), LevelNone},
		{"lease create", resourceAttrs(node, "create", "coordination.k8s.io", "leases", "", "kube-node-lease", ""), LevelMetadata},
		{"events watch", resourceAttrs(node, "watch", "", "events", "", "", ""), LevelNone},
		{"events.k8s.io list", resourceAttrs(node, "list", "events.k8s.io", "events", "", "", ""), LevelNone},
		{"event create", resourceAttrs(node, "create", "", "events", "", "ns", ""), LevelMetadata},
		{"secret read", resourceAttrs(node, "get", "", "secrets", "", "ns", "s"), LevelMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Evaluate(tt.attr); got.Level != tt.want {
				t.Errorf("level %q, want %q", got.Level, tt.want)
			}
		})
	}
	if got := p.Evaluate(resourceAttrs(node, "get", "", "pods", "", "", "")); got.Records(StageRequestReceived) || !got.Records(StageResponseComplete) {
		t.Errorf("default stages: %+v", got)
	}
	if err := validatePolicy(p).ToAggregate(); err != nil {
		t.Errorf("default policy invalid: %v", err)
	}
}

func TestParsePolicy(t *testing.T) {
	valid := `apiVersion: audit.k8s.io/v1
kind: Policy
metadata:
  name: p
omitStages: ["RequestReceived"]
omitManagedFields: true
rules:
- level: None
  users: ["system:kube-proxy"]
  verbs: ["watch"]
  resources:
  - group: ""
    resources: ["endpoints", "services", "services/status"]
- level: RequestResponse
  resources:
  - group: ""
    resources: ["configmaps"]
    resourceNames: ["controller-leader"]
  namespaces: ["kube-system"]
- level: None
  nonResourceURLs: ["/healthz*", "/version"]
- level: Metadata
  omitStages: ["ResponseStarted"]
  omitManagedFields: false
`
	p, err := ParsePolicy([]byte(valid))
	if err != nil {
		t.Fatalf("valid policy: %v", err)
	}
	if len(p.Rules) != 4 || !p.OmitManagedFields || p.Rules[3].OmitManagedFields == nil || *p.Rules[3].OmitManagedFields {
		t.Errorf("decoded %+v", p)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(valid), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPolicy(path); err != nil {
		t.Errorf("LoadPolicy: %v", err)
	}
	if _, err := LoadPolicy(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("LoadPolicy of a missing file succeeded")
	}
	const head = "apiVersion: audit.k8s.io/v1\nkind: Policy\n"
	bad := []struct{ name, doc, want string }{
		{"json form still checked", `{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"Everything"}]}`, "Unsupported value"},
		{"old version", "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]\n", "unsupported kind"},
		{"wrong kind", "apiVersion: audit.k8s.io/v1\nkind: Event\nrules: [{level: None}]\n", "unsupported kind"},
		{"no rules", head + "rules: []\n", "0 rules"},
		{"unknown field", head + "rules: [{level: None, user: [alice]}]\n", "unknown field"},
		{"missing level", head + "rules: [{verbs: [get]}]\n", "rules[0].level: Required value"},
		{"both kinds", head + "rules: [{level: None, nonResourceURLs: [/x], namespaces: [a]}]\n", "both regular resources and non-resource URLs"},
		{"relative url", head + "rules: [{level: None, nonResourceURLs: [healthz]}]\n", "must begin with a '/'"},
		{"inner wildcard", head + "rules: [{level: None, nonResourceURLs: [/a*/b]}]\n", "must be the final character"},
		{"bad group", head + "rules: [{level: None, resources: [{group: Apps_x}]}]\n", "rules[0].resources[0].group"},
		{"names without resources", head + "rules: [{level: None, resources: [{resourceNames: [a]}]}]\n", "requires at least one resource"},
		{"bad stage", head + "omitStages: [Done]\nrules: [{level: None}]\n", "omitStages[0]"},
		{"bad rule stage", head + "rules: [{level: None, omitStages: [Done]}]\n", "rules[0].omitStages[0]"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
