package audit

// DefaultPolicy is used when no --audit-policy-file is given: every request
// at Metadata level (who, what, when, result; never bodies, so secrets'
// contents stay out of the log), except
//   - health checks and /version, which load balancers and kubelets-alike
//     probe every few seconds;
//   - coordination.k8s.io leases reads and updates: every node agent renews
//     its lease every 10 s and each leader-elected component every 2 s, so
//     they would dominate the log while saying nothing about security
//     (creating and deleting leases is still recorded);
//   - reading events (get/list/watch), which dashboards poll constantly.
//
// The RequestReceived stage is omitted: ResponseComplete repeats it with
// the outcome, so it would only double the log. A new Policy is returned
// on each call; callers may modify it.
func DefaultPolicy() *Policy {
	p := &Policy{
		OmitStages: []Stage{StageRequestReceived},
		Rules: []PolicyRule{
			{Level: LevelNone, NonResourceURLs: []string{"/healthz*", "/livez*", "/readyz*", "/version"}},
			{Level: LevelNone, Verbs: []string{"get", "list", "watch", "update", "patch"},
				Resources: []GroupResources{{Group: "coordination.k8s.io", Resources: []string{"leases"}}}},
			{Level: LevelNone, Verbs: []string{"get", "list", "watch"},
				Resources: []GroupResources{{Group: "", Resources: []string{"events"}}, {Group: "events.k8s.io", Resources: []string{"events"}}}},
			{Level: LevelMetadata},
		},
	}
	p.APIVersion, p.Kind = APIVersion, "Policy"
	return p
}
