package encryption_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/skiff-io/skiff/internal/encryption"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
)

// TestServerEncryptsSecrets runs the whole server: a Secret created through
// the API is encrypted in etcd, `rotate` re-encrypts it under a new key,
// and after a restart (which reloads the rotated file) it still reads.
func TestServerEncryptsSecrets(t *testing.T) {
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers, c.DisableScheduler = true, true })
	ctx := context.Background()
	const value = "hunter2-very-secret"
	if _, err := s.Client.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db"}, StringData: map[string]string{"password": value}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := clientv3.New(clientv3.Config{Endpoints: []string{s.EtcdEndpoint()}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := func() []byte {
		t.Helper()
		resp, err := db.Get(ctx, "/registry/core/secrets/default/db")
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("reading the Secret from etcd: %v", err)
		}
		return resp.Kvs[0].Value
	}
	first := raw()
	if !bytes.HasPrefix(first, []byte("k8s:enc:aesgcm:v1:aesgcm-")) || bytes.Contains(first, []byte(value)) || bytes.Contains(first, []byte("password")) {
		t.Fatalf("Secret readable in etcd: %q", first)
	}

	client, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Post(s.URL()+encryption.RotatePath, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var res encryption.RotateResult
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || res.NewKey == "" || res.Rewritten < 1 {
		t.Fatalf("rotate: %d %+v %v", resp.StatusCode, res, err)
	}
	if after := raw(); !bytes.HasPrefix(after, []byte("k8s:enc:aesgcm:v1:"+res.NewKey+":")) {
		t.Fatalf("Secret after rotation: %q", after)
	}

	s.Restart()
	got, err := s.Client.CoreV1().Secrets("default").Get(ctx, "db", metav1.GetOptions{})
	if err != nil || string(got.Data["password"]) != value {
		t.Fatalf("Secret after rotation and restart: %v, %v", got, err)
	}
}
