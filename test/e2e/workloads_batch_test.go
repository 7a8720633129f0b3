package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scenarioJob: a Job with completions 2 and parallelism 1 runs its pods
// one at a time, completes, and `kubectl wait --for=condition=complete`
// returns.
func scenarioJob(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-job")
	k.write("twice.yaml", nsManifest(ns, `apiVersion: batch/v1
kind: Job
metadata:
  name: twice
  namespace: __NS__
spec:
  completions: 2
  parallelism: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox:1.36
        command: [sh, -c, "exit 0"]
`))
	var violations []string
	seen := map[string]bool{}
	w, stop := k.watchPods(ns, "batch.kubernetes.io/job-name=twice", func(event string, p podInfo, pods map[string]podInfo) {
		seen[p.name] = true
		running := 0
		for _, q := range pods {
			if q.phase != "Succeeded" && q.phase != "Failed" && q.deleting == "" {
				running++
			}
		}
		if running > 1 {
			violations = append(violations, fmt.Sprintf("after %s %s, %d pods run at once:\n%s", event, p.name, running, describePodMap(pods)))
		}
	})
	wantExactLines(t, k.ok("apply", "-f", "twice.yaml"), "job.batch/twice created")
	wantExactLines(t, k.ok("wait", "--for=condition=complete", "job/twice", "-n", ns, "--timeout=60s"), "job.batch/twice condition met")
	stop()
	if len(seen) != 2 {
		t.Errorf("the watch saw %d pods of job twice, want 2; events:\n%s", len(seen), w.log())
	}
	reportViolations(t, "parallelism 1", violations)
	if got := k.ok("get", "job", "twice", "-n", ns, "-o", `jsonpath={.status.succeeded} {.status.conditions[?(@.type=="Complete")].status} {.status.completionTime}`); !regexp.MustCompile(`^2 True 20\d\d-`).MatchString(got) {
		t.Errorf("completed job: succeeded, Complete condition, completionTime = %q, want 2 True <time>", got)
	}
	parseTable(t, k.ok("get", "job", "twice", "-n", ns)).wantRow(t, "twice", map[string]string{"STATUS": "Complete", "COMPLETIONS": "2/2"})
	pods := parseTable(t, k.ok("get", "pods", "-n", ns, "-l", "batch.kubernetes.io/job-name=twice"))
	if len(pods.rows) != 2 {
		t.Errorf("job pods: %d, want 2: %v", len(pods.rows), pods.rows)
	}
	for _, r := range pods.rows {
		if r["READY"] != "0/1" || r["STATUS"] != "Completed" {
			t.Errorf("job pod %s: READY %q STATUS %q, want 0/1 Completed", r["NAME"], r["READY"], r["STATUS"])
		}
	}
}

// scenarioCronJob: `kubectl create job --from=cronjob/tick` runs the
// CronJob's template at once, and the controller creates a Job for the
// next minute of "*/1 * * * *", named and annotated as Kubernetes does.
func scenarioCronJob(t *testing.T, c *fullCluster) {
	k := newKubectl(t, c)
	ns := k.workNamespace("e2e-cronjob")
	k.write("tick.yaml", nsManifest(ns, `apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
  namespace: __NS__
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: busybox:1.36
            command: [date]
`))
	wantExactLines(t, k.ok("apply", "-f", "tick.yaml"), "cronjob.batch/tick created")

	wantExactLines(t, k.ok("create", "job", "manual", "--from=cronjob/tick", "-n", ns), "job.batch/manual created")
	if got := k.ok("get", "job", "manual", "-n", ns, "-o", `jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.annotations.cronjob\.kubernetes\.io/instantiate}`); got != "CronJob/tick manual" {
		t.Errorf("job created from the cronjob: owner and instantiate annotation %q, want %q", got, "CronJob/tick manual")
	}
	wantExactLines(t, k.ok("wait", "--for=condition=complete", "job/manual", "-n", ns, "--timeout=60s"), "job.batch/manual condition met")

	// The scheduled Job is named after its scheduled minute (Unix time
	// divided by 60) and carries the scheduled time.
	scheduledName := regexp.MustCompile(`^tick-(\d+)$`)
	var name, owner, stamp string
	eventually(t, 100*time.Second, "a Job created by CronJob tick on schedule", func() (bool, string) {
		out := k.ok("get", "jobs", "-n", ns, "-o", `jsonpath={range .items[*]}{.metadata.name}|{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}|{.metadata.annotations.batch\.kubernetes\.io/cronjob-scheduled-timestamp}{"\n"}{end}`)
		for _, line := range strings.Split(out, "\n") {
			f := strings.Split(line, "|")
			if len(f) == 3 && scheduledName.MatchString(f[0]) {
				name, owner, stamp = f[0], f[1], f[2]
				return true, ""
			}
		}
		return false, out
	})
	minute, _ := strconv.ParseInt(scheduledName.FindStringSubmatch(name)[1], 10, 64)
	scheduled := time.Unix(minute*60, 0).UTC().Format(time.RFC3339)
	if owner != "CronJob/tick" {
		t.Errorf("scheduled job %s is owned by %q, want CronJob/tick", name, owner)
	}
	if stamp != scheduled {
		t.Errorf("scheduled job %s: batch.kubernetes.io/cronjob-scheduled-timestamp %q, want %q", name, stamp, scheduled)
	}
	wantExactLines(t, k.ok("wait", "--for=condition=complete", "job/"+name, "-n", ns, "--timeout=60s"), "job.batch/"+name+" condition met")
	eventually(t, settleDeadline, "CronJob tick's status to record the run", func() (bool, string) {
		got := k.ok("get", "cronjob", "tick", "-n", ns, "-o", "jsonpath={.status.lastScheduleTime} {.status.lastSuccessfulTime}")
		last, success, _ := strings.Cut(got, " ")
		return last >= scheduled && success != "", got
	})
	row := parseTable(t, k.ok("get", "cronjob", "tick", "-n", ns)).row(t, "NAME", "tick")
	if row["SCHEDULE"] != "*/1 * * * *" || row["SUSPEND"] != "False" || row["LAST SCHEDULE"] == "<none>" || row["LAST SCHEDULE"] == "" {
		t.Errorf("kubectl get cronjob tick: %v, want SCHEDULE */1 * * * *, SUSPEND False and a LAST SCHEDULE", row)
	}
}
