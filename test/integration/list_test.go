package integration

import (
	"fmt"
	"github.com/skiff-io/skiff/internal/testserver"
	"slices"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func cmNames(items []corev1.ConfigMap) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func podNames(items []corev1.Pod) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.Namespace+"/"+it.Name)
	}
	sort.Strings(out)
	return out
}

func TestList(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	c := s.Client
	ctx := ctxFor(t)

	t.Run("paging", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "paging")
		cms := c.CoreV1().ConfigMaps(ns)
		var all []string
		for i := range 25 {
			name := fmt.Sprintf("item-%02d", i)
			all = append(all, name)
			if _, err := cms.Create(ctx, configMap(ns, name, map[string]string{"parity": []string{"even", "odd"}[i%2]}, nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		page1, err := cms.List(ctx, metav1.ListOptions{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		// Changes after the first page do not show in later pages: every
		// page is read at the first page's resourceVersion.
		if _, err := cms.Create(ctx, configMap(ns, "zzz-later", nil, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cms.Delete(ctx, "item-22", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		page2, err := cms.List(ctx, metav1.ListOptions{Limit: 10, Continue: page1.Continue})
		if err != nil {
			t.Fatal(err)
		}
		page3, err := cms.List(ctx, metav1.ListOptions{Limit: 10, Continue: page2.Continue})
		if err != nil {
			t.Fatal(err)
		}
		for i, tc := range []struct {
			list      *corev1.ConfigMapList
			want      []string
			remaining *int64
			more      bool
		}{
			{page1, all[0:10], ptr(int64(15)), true},
			{page2, all[10:20], ptr(int64(5)), true},
			{page3, all[20:25], nil, false},
		} {
			if got := cmNames(tc.list.Items); !slices.Equal(got, tc.want) {
				t.Errorf("page %d: items %v, want %v", i+1, got, tc.want)
			}
			if (tc.list.Continue != "") != tc.more {
				t.Errorf("page %d: continue %q, want non-empty=%v", i+1, tc.list.Continue, tc.more)
			}
			switch got := tc.list.RemainingItemCount; {
			case tc.remaining == nil && got != nil:
				t.Errorf("page %d: remainingItemCount %d, want unset", i+1, *got)
			case tc.remaining != nil && (got == nil || *got != *tc.remaining):
				t.Errorf("page %d: remainingItemCount %v, want %d", i+1, got, *tc.remaining)
			}
			if tc.list.ResourceVersion != page1.ResourceVersion {
				t.Errorf("page %d: resourceVersion %s, want the first page's %s", i+1, tc.list.ResourceVersion, page1.ResourceVersion)
			}
		}

		// Paging with a selector returns the selected objects across
		// pages, without a remainingItemCount.
		var got []string
		opts := metav1.ListOptions{Limit: 4, LabelSelector: "parity=even"}
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatalf("paging did not end")
			}
			l, err := cms.List(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Items) > 4 {
				t.Errorf("page of %d items with limit 4", len(l.Items))
			}
			if l.RemainingItemCount != nil {
				t.Errorf("remainingItemCount %d set on a list with a label selector", *l.RemainingItemCount)
			}
			got = append(got, cmNames(l.Items)...)
			if l.Continue == "" {
				break
			}
			opts.Continue = l.Continue
		}
		var want []string
		for i := 0; i < 25; i += 2 {
			if i != 22 {
				want = append(want, fmt.Sprintf("item-%02d", i))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("paged selector list %v, want %v", got, want)
		}

		// A malformed continue token is a 400.
		_, err = cms.List(ctx, metav1.ListOptions{Limit: 10, Continue: "not-a-token"})
		if !apierrors.IsBadRequest(err) {
			t.Errorf("malformed continue token: got %v, want 400", err)
		}
	})

	t.Run("label selectors", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "labels")
		cms := c.CoreV1().ConfigMaps(ns)
		for name, labels := range map[string]map[string]string{
			"a": {"app": "web", "tier": "front"},
			"b": {"app": "web", "tier": "back"},
			"c": {"app": "db", "tier": "back"},
			"d": {"app": "cache"},
			"e": nil,
		} {
			if _, err := cms.Create(ctx, configMap(ns, name, labels, nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			selector string
			want     []string
		}{
			{"app=web", []string{"a", "b"}},
			{"app==web", []string{"a", "b"}},
			{"app!=web", []string{"c", "d", "e"}},
			{"app in (web,db)", []string{"a", "b", "c"}},
			{"app notin (web,db)", []string{"d", "e"}},
			{"tier", []string{"a", "b", "c"}},
			{"!tier", []string{"d", "e"}},
			{"app=web,tier=back", []string{"b"}},
			{"tier in (back),app notin (db)", []string{"b"}},
			{"app=nothing", []string{}},
			{"", []string{"a", "b", "c", "d", "e"}},
		} {
			t.Run(tc.selector, func(t *testing.T) {
				l, err := cms.List(ctx, metav1.ListOptions{LabelSelector: tc.selector})
				if err != nil {
					t.Fatal(err)
				}
				if got := cmNames(l.Items); !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			})
		}
		for _, bad := range []string{"app in web", "app=(x", "!!app"} {
			_, err := cms.List(ctx, metav1.ListOptions{LabelSelector: bad})
			if !apierrors.IsBadRequest(err) {
				t.Errorf("selector %q: got %v, want 400", bad, err)
			}
		}
	})

	t.Run("field selectors", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "fields")
		other := createNamespace(t, c, "fields-other")
		pods := c.CoreV1().Pods(ns)
		mk := func(ns, name, node string) {
			p := pod(ns, name, nil)
			p.Spec.NodeName = node
			if _, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		mk(ns, "p1", "node-a")
		mk(ns, "p2", "node-a")
		mk(ns, "p3", "")
		mk(ns, "p4", "node-b")
		mk(other, "q1", "node-a")
		p2, err := pods.Get(ctx, "p2", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p2.Status.Phase != corev1.PodPending {
			t.Errorf("new pod phase %q, want Pending", p2.Status.Phase)
		}
		p2.Status.Phase = corev1.PodRunning
		if _, err := pods.UpdateStatus(ctx, p2, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		q := func(n string) string { return ns + "/" + n }
		for _, tc := range []struct {
			namespace string // "" = all namespaces
			selector  string
			want      []string
		}{
			{ns, "metadata.name=p1", []string{q("p1")}},
			{ns, "metadata.name!=p1", []string{q("p2"), q("p3"), q("p4")}},
			{"", "metadata.namespace=" + other, []string{other + "/q1"}},
			{ns, "spec.nodeName=node-a", []string{q("p1"), q("p2")}},
			{"", "spec.nodeName=node-a", []string{q("p1"), q("p2"), other + "/q1"}},
			{ns, "spec.nodeName=", []string{q("p3")}},
			{ns, "spec.nodeName!=node-a", []string{q("p3"), q("p4")}},
			{ns, "status.phase=Running", []string{q("p2")}},
			{ns, "status.phase=Pending", []string{q("p1"), q("p3"), q("p4")}},
			{ns, "spec.nodeName=node-a,status.phase=Pending", []string{q("p1")}},
			{ns, "metadata.name=p1,metadata.namespace=" + other, []string{}},
		} {
			t.Run(tc.namespace+"?"+tc.selector, func(t *testing.T) {
				l, err := c.CoreV1().Pods(tc.namespace).List(ctx, metav1.ListOptions{FieldSelector: tc.selector})
				if err != nil {
					t.Fatal(err)
				}
				sort.Strings(tc.want)
				if got := podNames(l.Items); !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			})
		}
		// metadata.name and metadata.namespace work on every resource.
		if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "cm", nil, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		l, err := c.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.namespace=" + ns + ",metadata.name=cm"})
		if err != nil {
			t.Fatal(err)
		}
		if got := cmNames(l.Items); !slices.Equal(got, []string{"cm"}) {
			t.Errorf("configmaps by namespace and name: %v, want [cm]", got)
		}
		// Unsupported field selectors are 400 Bad Request.
		for _, tc := range []struct {
			what string
			list func() error
		}{
			{"pods spec.dnsPolicy", func() error {
				_, err := pods.List(ctx, metav1.ListOptions{FieldSelector: "spec.dnsPolicy=ClusterFirst"})
				return err
			}},
			{"configmaps spec.nodeName", func() error {
				_, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=node-a"})
				return err
			}},
			{"watch pods metadata.labels", func() error {
				w, err := pods.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.labels=x"})
				if err == nil {
					w.Stop()
				}
				return err
			}},
		} {
			err := tc.list()
			if !apierrors.IsBadRequest(err) {
				t.Errorf("%s: got %v, want 400 Bad Request", tc.what, err)
			}
		}
	})

	t.Run("resourceVersion semantics", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "rv")
		cms := c.CoreV1().ConfigMaps(ns)
		v1, err := cms.Create(ctx, configMap(ns, "cm", nil, map[string]string{"v": "1"}), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		upd := v1.DeepCopy()
		upd.Data["v"] = "2"
		v2, err := cms.Update(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cms.Create(ctx, configMap(ns, "later", nil, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}

		// Exact shows the state at that version.
		for _, tc := range []struct {
			rv        string
			wantData  string
			wantNames []string
		}{
			{v1.ResourceVersion, "1", []string{"cm"}},
			{v2.ResourceVersion, "2", []string{"cm"}},
		} {
			l, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: tc.rv, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
			if err != nil {
				t.Fatalf("exact list at %s: %v", tc.rv, err)
			}
			if l.ResourceVersion != tc.rv {
				t.Errorf("exact list at %s has resourceVersion %s", tc.rv, l.ResourceVersion)
			}
			if got := cmNames(l.Items); !slices.Equal(got, tc.wantNames) {
				t.Errorf("exact list at %s: %v, want %v", tc.rv, got, tc.wantNames)
			} else if l.Items[0].Data["v"] != tc.wantData {
				t.Errorf("exact list at %s: data v=%q, want %q", tc.rv, l.Items[0].Data["v"], tc.wantData)
			}
		}
		// NotOlderThan (explicit, or implied by a bare resourceVersion)
		// returns data at least that new: here the newest.
		for _, match := range []metav1.ResourceVersionMatch{metav1.ResourceVersionMatchNotOlderThan, ""} {
			l, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: v1.ResourceVersion, ResourceVersionMatch: match})
			if err != nil {
				t.Fatal(err)
			}
			if got := cmNames(l.Items); !slices.Equal(got, []string{"cm", "later"}) {
				t.Errorf("match %q at %s: %v, want [cm later]", match, v1.ResourceVersion, got)
			} else if l.Items[0].Data["v"] != "2" {
				t.Errorf("match %q at %s: data v=%q, want the newest 2", match, v1.ResourceVersion, l.Items[0].Data["v"])
			}
			if rvNum(t, l.ResourceVersion) < rvNum(t, v2.ResourceVersion) {
				t.Errorf("match %q: list resourceVersion %s older than %s", match, l.ResourceVersion, v2.ResourceVersion)
			}
		}
		// resourceVersion=0 may be served from the cache, which catches up.
		testserver.Eventually(t, 0, "list with resourceVersion=0 shows the new object", func() error {
			l, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: "0"})
			if err != nil {
				return err
			}
			if l.ResourceVersion == "" || l.ResourceVersion == "0" {
				return fmt.Errorf("list resourceVersion %q", l.ResourceVersion)
			}
			if got := cmNames(l.Items); !slices.Equal(got, []string{"cm", "later"}) {
				return fmt.Errorf("items %v", got)
			}
			return nil
		})
		// A get with resourceVersion=0 works too.
		if got, err := cms.Get(ctx, "cm", metav1.GetOptions{ResourceVersion: "0"}); err != nil {
			t.Errorf("get with resourceVersion=0: %v", err)
		} else if got.Name != "cm" {
			t.Errorf("get with resourceVersion=0 returned %q", got.Name)
		}

		// A version far in the future: the server waits a little, then
		// answers 504 with a ResourceVersionTooLarge cause.
		future := fmt.Sprint(rvNum(t, v2.ResourceVersion) + 1000000)
		// (client-go would retry the 504 ten times: ask once.)
		err = c.CoreV1().RESTClient().Get().Namespace(ns).Resource("configmaps").
			Param("resourceVersion", future).MaxRetries(0).Do(ctx).Error()
		if !apierrors.IsTimeout(err) || !apierrors.HasStatusCause(err, metav1.CauseTypeResourceVersionTooLarge) {
			t.Errorf("list at future version %s: got %v, want 504 with cause %s", future, err, metav1.CauseTypeResourceVersionTooLarge)
		}

		// Invalid ListOptions are 422 Invalid (kind ListOptions).
		for _, tc := range []struct {
			name string
			opts metav1.ListOptions
		}{
			{"match without resourceVersion", metav1.ListOptions{ResourceVersionMatch: metav1.ResourceVersionMatchExact}},
			{"exact at 0", metav1.ListOptions{ResourceVersion: "0", ResourceVersionMatch: metav1.ResourceVersionMatchExact}},
			{"unsupported match", metav1.ListOptions{ResourceVersion: "1", ResourceVersionMatch: "Newest"}},
			{"match with continue", metav1.ListOptions{ResourceVersion: "1", ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan, Continue: "abc", Limit: 1}},
			{"sendInitialEvents on a list", metav1.ListOptions{SendInitialEvents: ptr(true)}},
		} {
			_, err := cms.List(ctx, tc.opts)
			if !apierrors.IsInvalid(err) {
				t.Errorf("%s: got %v (code %d), want 422 Invalid", tc.name, err, statusCode(err))
			}
		}
	})
}
