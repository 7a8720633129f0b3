package authn

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/skiff-io/skiff/internal/auth/user"
)

func TestFilter(t *testing.T) {
	auth := RequestFunc(func(r *http.Request) (*user.Info, bool, error) {
		switch r.Header.Get("X-Test") {
		case "alice":
			return &user.Info{Name: "alice", Groups: []string{"dev"}}, true, nil
		case "already":
			return &user.Info{Name: "bob", Groups: []string{user.AllAuthenticated}}, true, nil
		case "bad":
			return nil, false, errors.New("invalid bearer token")
		}
		return nil, false, nil
	})
	public := []string{"/healthz", "/version", "/.well-known/openid-configuration"}
	tests := []struct {
		name       string
		who, path  string
		wantCode   int
		wantUser   string
		wantGroups []string
	}{
		{"authenticated", "alice", "/api/v1/pods", 200, "alice", []string{"dev", user.AllAuthenticated}},
		{"group added once", "already", "/api", 200, "bob", []string{user.AllAuthenticated}},
		{"anonymous on public path", "", "/healthz", 200, user.Anonymous, []string{user.AllUnauthenticated}},
		{"anonymous below public path", "", "/healthz/etcd", 200, user.Anonymous, []string{user.AllUnauthenticated}},
		{"public prefix is not a path prefix", "", "/healthzz", 401, "", nil},
		{"anonymous elsewhere", "", "/api/v1/secrets", 401, "", nil},
		{"invalid credentials on public path", "bad", "/healthz", 401, "", nil},
		{"invalid credentials", "bad", "/api", 401, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *user.Info
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = user.From(r.Context())
			})
			r := httptest.NewRequest("GET", tt.path, nil)
			r.Header.Set("X-Test", tt.who)
			w := httptest.NewRecorder()
			Filter(auth, public, next, nil).ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Fatalf("code %d, want %d", w.Code, tt.wantCode)
			}
			if tt.wantCode == 401 {
				if got != nil {
					t.Fatal("next handler ran")
				}
				var body map[string]interface{}
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
					t.Fatal(err)
				}
				want := map[string]interface{}{"kind": "Status", "apiVersion": "v1", "metadata": map[string]interface{}{},
					"status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": float64(401)}
				if !reflect.DeepEqual(body, want) {
					t.Fatalf("body %s", w.Body)
				}
				return
			}
			if got == nil || got.Name != tt.wantUser || !reflect.DeepEqual(got.Groups, tt.wantGroups) {
				t.Fatalf("user %+v", got)
			}
		})
	}
}
