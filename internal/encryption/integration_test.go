package encryption

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/skiff-io/skiff/internal/auth/user"
	"github.com/skiff-io/skiff/internal/etcd"
	"github.com/skiff-io/skiff/internal/storage"
)

// cluster is a store on a real embedded etcd with Secrets registered the
// way the server registers them, encrypted by cfg.
type cluster struct {
	etcd    *clientv3.Client
	cfg     *Config
	secrets *storage.Resource
	ctrl    *Controller
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	var ports []int
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		l.Close()
	}
	dataDir := t.TempDir()
	member, err := etcd.New(etcd.Config{DataDir: dataDir + "/etcd", ClientPort: ports[0], PeerPort: ports[1]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(member.Close)
	cfg, err := Ensure(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := storage.New(storage.Config{Client: member.Client(), Logger: quiet, CompactInterval: -1, TransformerFor: cfg.Transformer})
	if err != nil {
		t.Fatal(err)
	}
	secrets := store.Register(storage.ResourceConfig{
		GroupResource: SecretsResource,
		Kind:          corev1.SchemeGroupVersion.WithKind("Secret"),
		New:           func() runtime.Object { return &corev1.Secret{} },
		Namespaced:    true,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = store.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-store.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("store not ready")
	}
	return &cluster{etcd: member.Client(), cfg: cfg, secrets: secrets, ctrl: NewController(cfg, secrets, quiet)}
}

func (c *cluster) raw(t *testing.T, ns, name string) []byte {
	t.Helper()
	resp, err := c.etcd.Get(context.Background(), "/registry/core/secrets/"+ns+"/"+name)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("reading etcd: %v", err)
	}
	return resp.Kvs[0].Value
}

func secret(name, value string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Data: map[string][]byte{"password": []byte(value)}}
}

// call serves one request to the handler as u.
func call(t *testing.T, h http.Handler, method, path string, u *user.Info, out any) int {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if u != nil {
		req = req.WithContext(user.WithUser(req.Context(), u))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v in %q", method, path, err, rec.Body.String())
		}
	}
	return rec.Code
}

func TestSecretsEncryptedInEtcdAndRotated(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	if _, err := c.secrets.Create(ctx, "ns", "db", secret("db", "hunter2-very-secret")); err != nil {
		t.Fatal(err)
	}
	// A Secret written before encryption was on: plain JSON in etcd.
	plain, _ := json.Marshal(&corev1.Secret{TypeMeta: metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "legacy"}, Data: map[string][]byte{"password": []byte("legacy-value")}})
	if _, err := c.etcd.Put(ctx, "/registry/core/secrets/ns/legacy", string(plain)); err != nil {
		t.Fatal(err)
	}
	firstKey := c.cfg.File().Resources[0].Providers[0].AESGCM.Keys[0].Name
	raw := c.raw(t, "ns", "db")
	if !bytes.HasPrefix(raw, []byte("k8s:enc:aesgcm:v1:"+firstKey+":")) {
		t.Fatalf("raw value %q is not encrypted under %s", raw, firstKey)
	}
	for _, leak := range []string{"hunter2-very-secret", "aHVudGVyMi12ZXJ5LXNlY3JldA", "password"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Fatalf("raw etcd value shows %q: %q", leak, raw)
		}
	}

	h := Handler(c.ctrl)
	admin := &user.Info{Name: "admin", Groups: []string{user.SystemPrivilegedGroup, user.AllAuthenticated}}
	var st Status
	if code := call(t, h, http.MethodGet, StatusPath, admin, &st); code != http.StatusOK {
		t.Fatalf("status: %d", code)
	}
	if !st.Encrypted || st.Total != 2 || st.Unencrypted != 1 || len(st.Keys) != 1 || st.Keys[0].Name != firstKey || st.Keys[0].Secrets != 1 || !st.Keys[0].Primary {
		t.Fatalf("status before rotation = %+v", st)
	}

	var status metav1.Status
	alice := &user.Info{Name: "alice", Groups: []string{user.AllAuthenticated}}
	if code := call(t, h, http.MethodPost, RotatePath, alice, &status); code != http.StatusForbidden ||
		status.Reason != metav1.StatusReasonForbidden || status.Message != `forbidden: User "alice" cannot post path "/skiff/v1/secrets-encrypt/rotate"` {
		t.Fatalf("rotate as alice: %d %+v", code, status)
	}
	if code := call(t, h, http.MethodGet, RotatePath, admin, &status); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET rotate: %d %+v", code, status)
	}

	var res RotateResult
	if code := call(t, h, http.MethodPost, RotatePath, admin, &res); code != http.StatusOK {
		t.Fatalf("rotate: %d", code)
	}
	if res.NewKey == firstKey || res.Rewritten != 2 || len(res.RemovedKeys) != 1 || res.RemovedKeys[0] != firstKey {
		t.Fatalf("rotate result = %+v", res)
	}
	for _, name := range []string{"db", "legacy"} {
		if raw := c.raw(t, "ns", name); !bytes.HasPrefix(raw, []byte("k8s:enc:aesgcm:v1:"+res.NewKey+":")) || bytes.Contains(raw, []byte("value")) {
			t.Fatalf("%s after rotation: %q", name, raw)
		}
	}
	for name, want := range map[string]string{"db": "hunter2-very-secret", "legacy": "legacy-value"} {
		got, err := c.secrets.Get(ctx, "ns", name)
		if err != nil || string(got.(*corev1.Secret).Data["password"]) != want {
			t.Fatalf("Get %s after rotation = %v, %v", name, got, err)
		}
	}
	// The file holds only the new key (and identity), and a fresh load of
	// it reads every Secret.
	reloaded, err := Load(c.cfg.Path())
	if err != nil {
		t.Fatal(err)
	}
	file := reloaded.File()
	if keys := file.Resources[0].Providers[0].AESGCM.Keys; len(keys) != 1 || keys[0].Name != res.NewKey || file.Resources[0].Providers[1].Identity == nil {
		t.Fatalf("file after rotation: %+v", file.Resources[0].Providers)
	}
	tr := reloaded.Transformer(SecretsResource)
	if _, stale, err := tr.FromStorage(c.raw(t, "ns", "db"), "/registry/core/secrets/ns/db"); err != nil || stale {
		t.Fatalf("reloaded configuration reads db: stale %v, %v", stale, err)
	}
	st = Status{}
	call(t, h, http.MethodGet, StatusPath, admin, &st)
	if st.Unencrypted != 0 || len(st.Keys) != 1 || st.Keys[0].Name != res.NewKey || st.Keys[0].Secrets != 2 {
		t.Fatalf("status after rotation = %+v", st)
	}
	// The cache followed the rewrites and still serves the objects.
	deadline := time.Now().Add(10 * time.Second)
	for {
		obj, err := c.secrets.GetCached("ns", "legacy")
		if err == nil && obj.(*corev1.Secret).ResourceVersion != "" && string(obj.(*corev1.Secret).Data["password"]) == "legacy-value" {
			if list, err := c.secrets.List(ctx, storage.ListOptions{}); err == nil && len(list.Items) == 2 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache after rotation: %v, %v", obj, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHandlerRefusesAnonymous(t *testing.T) {
	h := Handler(&Controller{})
	var status metav1.Status
	if code := call(t, h, http.MethodGet, StatusPath, nil, &status); code != http.StatusForbidden ||
		!strings.Contains(status.Message, `User "system:anonymous" cannot get path`) || status.Kind != "Status" {
		t.Fatalf("anonymous status: %d %+v", code, status)
	}
}

func TestRewriteStaleEncryptsLegacySecrets(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	plain, _ := json.Marshal(&corev1.Secret{TypeMeta: metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "legacy"}, Data: map[string][]byte{"password": []byte("legacy-value")}})
	if _, err := c.etcd.Put(ctx, "/registry/core/secrets/ns/legacy", string(plain)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.ctrl.RewriteStale(ctx); err != nil || n != 1 {
		t.Fatalf("RewriteStale = %d, %v; want 1", n, err)
	}
	if raw := c.raw(t, "ns", "legacy"); !bytes.HasPrefix(raw, []byte("k8s:enc:aesgcm:v1:")) || bytes.Contains(raw, []byte("legacy")) {
		t.Fatalf("legacy Secret after RewriteStale: %q", raw)
	}
	if n, err := c.ctrl.RewriteStale(ctx); err != nil || n != 0 {
		t.Fatalf("second RewriteStale = %d, %v; want 0", n, err)
	}
}
