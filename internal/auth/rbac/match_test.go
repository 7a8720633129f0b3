package rbac

import (
	"testing"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	rbacv1 "k8s.io/api/rbac/v1"
)

func res(verb, group, resource, sub, name string) authorizer.Attributes {
	return authorizer.Attributes{Verb: verb, ResourceRequest: true, APIGroup: group, Resource: resource, Subresource: sub, Name: name, Namespace: "ns"}
}

func nonRes(verb, path string) authorizer.Attributes {
	return authorizer.Attributes{Verb: verb, Path: path}
}

func TestRuleAllows(t *testing.T) {
	pods := rule(verbs("get", "list"), "", "pods")
	tests := []struct {
		name string
		rule rbacv1.PolicyRule
		req  authorizer.Attributes
		want bool
	}{
		{"exact", pods, res("get", "", "pods", "", "p"), true},
		{"other verb", pods, res("delete", "", "pods", "", "p"), false},
		{"other group", pods, res("get", "apps", "pods", "", "p"), false},
		{"other resource", pods, res("get", "", "secrets", "", "p"), false},
		{"resource does not grant its subresources", pods, res("get", "", "pods", "log", "p"), false},
		{"verb *", rule(verbs("*"), "", "pods"), res("escalate", "", "pods", "", ""), true},
		{"group *", rule(verbs("get"), "*", "pods"), res("get", "metrics.k8s.io", "pods", "", ""), true},
		{"resource * includes subresources", rule(verbs("get"), "", "*"), res("get", "", "pods", "log", "p"), true},
		{"res/sub", rule(verbs("get"), "", "pods/log"), res("get", "", "pods", "log", "p"), true},
		{"res/sub is not the resource", rule(verbs("get"), "", "pods/log"), res("get", "", "pods", "", "p"), false},
		{"*/sub", rule(verbs("update"), "*", "*/scale"), res("update", "apps", "deployments", "scale", "d"), true},
		{"*/sub other sub", rule(verbs("update"), "*", "*/scale"), res("update", "apps", "deployments", "status", "d"), false},
		{"*/sub not the resource", rule(verbs("update"), "*", "*/scale"), res("update", "apps", "deployments", "", "d"), false},
		// Kubernetes deliberately treats "pods/*" as a literal.
		{"res/* is literal", rule(verbs("get"), "", "pods/*"), res("get", "", "pods", "exec", "p"), false},
		{"resourceNames match", named(pods, "a", "b"), res("get", "", "pods", "", "b"), true},
		{"resourceNames mismatch", named(pods, "a"), res("get", "", "pods", "", "c"), false},
		{"resourceNames never match list", named(pods, "a"), res("list", "", "pods", "", ""), false},
		{"resourceNames never match create", named(rule(verbs("create"), "", "pods"), "a"), res("create", "", "pods", "", ""), false},
		{"resourceNames never match deletecollection", named(rule(verbs("deletecollection"), "", "pods"), "a"), res("deletecollection", "", "pods", "", ""), false},
		{"resourceNames with subresource", named(rule(verbs("create"), "", "serviceaccounts/token"), "sa"), res("create", "", "serviceaccounts", "token", "sa"), true},
		{"url exact", urls(verbs("get"), "/healthz"), nonRes("get", "/healthz"), true},
		{"url exact is not a prefix", urls(verbs("get"), "/healthz"), nonRes("get", "/healthz/etcd"), false},
		{"url prefix", urls(verbs("get"), "/healthz/*"), nonRes("get", "/healthz/etcd"), true},
		{"url prefix excludes the bare path", urls(verbs("get"), "/healthz/*"), nonRes("get", "/healthz"), false},
		{"url *", urls(verbs("get"), "*"), nonRes("get", "/anything"), true},
		{"url verb", urls(verbs("get"), "/healthz"), nonRes("post", "/healthz"), false},
		{"resource rule does not match urls", rule(verbs("*"), "*", "*"), nonRes("get", "/healthz"), false},
		{"url rule does not match resources", urls(verbs("*"), "*"), res("get", "", "pods", "", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RuleAllows(tt.req, &tt.rule); got != tt.want {
				t.Fatalf("RuleAllows(%+v, %s) = %v, want %v", tt.req, compactString(tt.rule), got, tt.want)
			}
		})
	}
}
