package filters

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
	"github.com/skiff-io/skiff/internal/auth/user"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// allowList allows exactly the listed "user verb group/resource/sub ns name"
// or "user verb path" strings.
type allowList map[string]bool

func (l allowList) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	key := a.User.Name + " " + a.Verb + " " + a.Path
	if a.ResourceRequest {
		key = a.User.Name + " " + a.Verb + " " + a.APIGroup + "/" + a.Resource + "/" + a.Subresource + " " + a.Namespace + " " + a.Name
	}
	if l[key] {
		return authorizer.Allow, "listed", nil
	}
	return authorizer.NoOpinion, "", nil
}

func serve(t *testing.T, h http.Handler, u *user.Info, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	r = r.WithContext(user.WithUser(r.Context(), u))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestAuthorization(t *testing.T) {
	alice := &user.Info{Name: "alice", Groups: []string{user.AllAuthenticated}}
	az := allowList{
		"alice get /pods/ team web":          true,
		"alice list apps/deployments/ team ": true,
		"alice get /healthz":                 true,
	}
	var annotations []string
	h := Authorization(Config{Authorizer: az, Annotate: func(_ context.Context, k, v string) { annotations = append(annotations, k+"="+v) }},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	cases := []struct {
		method, path string
		code         int
		message      string
	}{
		{"GET", "/api/v1/namespaces/team/pods/web", http.StatusTeapot, ""},
		{"GET", "/apis/apps/v1/namespaces/team/deployments", http.StatusTeapot, ""},
		{"GET", "/healthz", http.StatusTeapot, ""},
		{"GET", "/api/v1/namespaces/team/pods/other", http.StatusForbidden, `pods "other" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "team"`},
		{"POST", "/api/v1/namespaces/team/pods/web/exec", http.StatusForbidden, `pods "web" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace "team"`},
		{"GET", "/api/v1/nodes", http.StatusForbidden, `nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope`},
		{"GET", "/metrics", http.StatusForbidden, `forbidden: User "alice" cannot get path "/metrics"`},
		{"GET", "/api/v1/nodes/n1/proxy/stats/summary", http.StatusForbidden, `nodes "n1" is forbidden: User "alice" cannot get resource "nodes/proxy" in API group "" at the cluster scope`},
	}
	for _, tc := range cases {
		annotations = nil
		w := serve(t, h, alice, tc.method, tc.path, nil)
		if w.Code != tc.code {
			t.Errorf("%s %s: code %d, want %d (%s)", tc.method, tc.path, w.Code, tc.code, w.Body)
			continue
		}
		want := "authorization.k8s.io/decision=allow"
		if tc.code == http.StatusForbidden {
			want = "authorization.k8s.io/decision=forbid"
			var st metav1.Status
			if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
				t.Fatalf("%s: body %q: %v", tc.path, w.Body, err)
			}
			if st.Message != tc.message || st.Reason != metav1.StatusReasonForbidden || st.Kind != "Status" {
				t.Errorf("%s %s: status %+v, want message %q", tc.method, tc.path, st, tc.message)
			}
		}
		if len(annotations) == 0 || annotations[0] != want {
			t.Errorf("%s %s: annotations %v, want %s first", tc.method, tc.path, annotations, want)
		}
	}
}

func TestImpersonation(t *testing.T) {
	admin := &user.Info{Name: "admin", Groups: []string{user.AllAuthenticated}}
	az := allowList{
		"admin impersonate /users/  mallory":                              true,
		"admin impersonate /serviceaccounts/ team robot":                  true,
		"admin impersonate /groups/  devs":                                true,
		"admin impersonate authentication.k8s.io/userextras/scopes  view": true,
	}
	var got *user.Info
	var recorded *user.Info
	h := Impersonation(Config{Authorizer: az}, func(_ context.Context, u *user.Info) { recorded = u },
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = user.From(r.Context())
			if r.Header.Get(headerUser) != "" {
				t.Error("impersonation headers reach the API server")
			}
		}))
	cases := []struct {
		name       string
		header     http.Header
		code       int
		wantUser   string
		wantGroups []string
		message    string
	}{
		{"none", http.Header{}, 200, "admin", []string{user.AllAuthenticated}, ""},
		{"user", http.Header{headerUser: {"mallory"}}, 200, "mallory", []string{user.AllAuthenticated}, ""},
		{"user and group", http.Header{headerUser: {"mallory"}, headerGroup: {"devs"}}, 200, "mallory", []string{"devs", user.AllAuthenticated}, ""},
		{"service account", http.Header{headerUser: {"system:serviceaccount:team:robot"}}, 200, "system:serviceaccount:team:robot",
			[]string{user.ServiceAccountsGroup, "system:serviceaccounts:team", user.AllAuthenticated}, ""},
		{"extra", http.Header{headerUser: {"mallory"}, headerExtraPrefix + "Scopes": {"view"}}, 200, "mallory", []string{user.AllAuthenticated}, ""},
		{"user not allowed", http.Header{headerUser: {"root"}}, 403, "", nil,
			`users "root" is forbidden: User "admin" cannot impersonate resource "users" in API group "" at the cluster scope`},
		{"group not allowed", http.Header{headerUser: {"mallory"}, headerGroup: {"system:masters"}}, 403, "", nil,
			`groups "system:masters" is forbidden: User "admin" cannot impersonate resource "groups" in API group "" at the cluster scope`},
		{"group without user", http.Header{headerGroup: {"devs"}}, 400, "", nil, "requested group devs without impersonating a user"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, recorded = nil, nil
			w := serve(t, h, admin, "GET", "/api/v1/pods", tc.header)
			if w.Code != tc.code {
				t.Fatalf("code %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			if tc.code != 200 {
				var st metav1.Status
				_ = json.Unmarshal(w.Body.Bytes(), &st)
				if st.Message != tc.message {
					t.Errorf("message %q, want %q", st.Message, tc.message)
				}
				if got != nil {
					t.Error("refused request reached the handler")
				}
				return
			}
			if got.Name != tc.wantUser || strings.Join(got.Groups, ",") != strings.Join(tc.wantGroups, ",") {
				t.Errorf("user %+v, want %s %v", got, tc.wantUser, tc.wantGroups)
			}
			if tc.wantUser != "admin" && recorded != got {
				t.Error("impersonated user not recorded for audit")
			}
		})
	}
}
