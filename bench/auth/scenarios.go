package main

import (
	"context"
	"fmt"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Who makes the requests. caseAdmin is the reference every other case is
// compared with.
const (
	caseAdmin   = "admin cert"
	caseSA      = "SA token + RBAC"
	caseUser    = "user cert + RBAC"
	caseNode    = "node cert + Node authz"
	caseNoAudit = "admin cert, audit off"
)

// What is requested.
const (
	opGetConfigMap = "GET configmap"
	opListPods     = "LIST pods"
	opCreate       = "CREATE configmap"
	opGetSecret    = "GET secret"
)

// scenario is one case doing one operation against one server.
type scenario struct {
	Case, Op string
	pid      int // the server's, for its CPU time
	req      request
}

func getConfigMap(cs kubernetes.Interface) request {
	return func(ctx context.Context, _ int64) error {
		_, err := cs.CoreV1().ConfigMaps(nsMain).Get(ctx, configMap, metav1.GetOptions{})
		return err
	}
}

func getSecret(cs kubernetes.Interface) request {
	return func(ctx context.Context, _ int64) error {
		_, err := cs.CoreV1().Secrets(nsMain).Get(ctx, secret, metav1.GetOptions{})
		return err
	}
}

// listPods lists nsPods without limit, decoded, and checks the count.
func listPods(cs kubernetes.Interface, want int) request {
	return func(ctx context.Context, _ int64) error {
		l, err := cs.CoreV1().Pods(nsPods).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(l.Items) != want {
			return fmt.Errorf("list returned %d pods, want %d", len(l.Items), want)
		}
		return nil
	}
}

// createConfigMap creates config maps named <prefix>-<i> in nsCreates.
func createConfigMap(cs kubernetes.Interface, prefix string) request {
	return func(ctx context.Context, i int64) error {
		_, err := cs.CoreV1().ConfigMaps(nsCreates).Create(ctx, benchConfigMap(prefix+"-"+strconv.FormatInt(i, 10)), metav1.CreateOptions{})
		return err
	}
}

// clients are the clientsets of the cases; each is shared by all the
// concurrent workers of a scenario (one HTTP/2 connection, as a
// controller's informers and workers share one).
type clients struct {
	admin, reader, writer, user, node, adminNoAudit kubernetes.Interface
}

// scenarios lists what is measured, grouped by operation so that each
// case runs right after the reference it is compared with.
func scenarios(c clients, mainPid, noAuditPid, pods int) []scenario {
	return []scenario{
		{caseAdmin, opGetConfigMap, mainPid, getConfigMap(c.admin)},
		{caseSA, opGetConfigMap, mainPid, getConfigMap(c.reader)},
		{caseUser, opGetConfigMap, mainPid, getConfigMap(c.user)},
		{caseNode, opGetConfigMap, mainPid, getConfigMap(c.node)},
		{caseNoAudit, opGetConfigMap, noAuditPid, getConfigMap(c.adminNoAudit)},

		{caseAdmin, opGetSecret, mainPid, getSecret(c.admin)},
		{caseNode, opGetSecret, mainPid, getSecret(c.node)},
		{caseNoAudit, opGetSecret, noAuditPid, getSecret(c.adminNoAudit)},

		{caseAdmin, opListPods, mainPid, listPods(c.admin, pods)},
		{caseSA, opListPods, mainPid, listPods(c.reader, pods)},
		{caseUser, opListPods, mainPid, listPods(c.user, pods)},
		{caseNoAudit, opListPods, noAuditPid, listPods(c.adminNoAudit, pods)},

		{caseAdmin, opCreate, mainPid, createConfigMap(c.admin, "admin")},
		{caseSA, opCreate, mainPid, createConfigMap(c.writer, "writer")},
		{caseUser, opCreate, mainPid, createConfigMap(c.user, "user")},
		{caseNoAudit, opCreate, noAuditPid, createConfigMap(c.adminNoAudit, "admin")},
	}
}

// accessCheck is a request whose outcome shows that authorization is
// really in the path: allowed ones must succeed, the others must be
// refused with 403.
type accessCheck struct {
	what    string
	allowed bool
	req     request
}

func accessChecks(c clients) []accessCheck {
	return []accessCheck{
		{"SA reader (view) creates a config map", false, createConfigMap(c.reader, "check")},
		{"SA reader (view) gets a secret", false, getSecret(c.reader)},
		{"SA writer (edit) creates a config map", true, createConfigMap(c.writer, "check")},
		{"certificate user (view) gets a secret", false, getSecret(c.user)},
		{"node gets a secret its pod mounts", true, getSecret(c.node)},
		{"node gets a secret none of its pods uses", false, func(ctx context.Context, _ int64) error {
			_, err := c.node.CoreV1().Secrets(nsMain).Get(ctx, otherSecret, metav1.GetOptions{})
			return err
		}},
	}
}

// runAccessChecks runs each check once and returns one line per check; an
// unexpected outcome is an error.
func runAccessChecks(ctx context.Context, checks []accessCheck) ([]string, error) {
	var lines []string
	for i, c := range checks {
		err := c.req(ctx, int64(1_000_000+i))
		switch {
		case c.allowed && err == nil:
			lines = append(lines, c.what+": allowed, as expected")
		case !c.allowed && apierrors.IsForbidden(err):
			lines = append(lines, c.what+": 403 Forbidden, as expected")
		case c.allowed:
			return nil, fmt.Errorf("%s: want allowed, got %w", c.what, err)
		default:
			return nil, fmt.Errorf("%s: want 403 Forbidden, got %v", c.what, err)
		}
	}
	return lines, nil
}

// roundOrder is the order in which a round runs the scenarios, as indexes
// into scs: operation by operation as listed, with the cases of each
// operation rotated by the round number so that no case is always first
// after a change of operation (which pays for the change, e.g. a GC cycle
// started by the previous load).
func roundOrder(scs []scenario, round int) []int {
	var order []int
	for start := 0; start < len(scs); {
		end := start + 1
		for end < len(scs) && scs[end].Op == scs[start].Op {
			end++
		}
		n := end - start
		for k := range n {
			order = append(order, start+(k+round)%n)
		}
		start = end
	}
	return order
}
