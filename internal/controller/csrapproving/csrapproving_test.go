package csrapproving

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/controller"
	"github.com/skiff-io/skiff/internal/controller/csrsigning"
	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

func request(t *testing.T, tmpl x509.CertificateRequest) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

var (
	n1Subject     = pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}
	clientUsages  = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	servingUsages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}
)

func newCSR(t *testing.T, name, signer, username string, groups []string, tmpl x509.CertificateRequest, usages []certificatesv1.KeyUsage) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.Now()},
		Spec: certificatesv1.CertificateSigningRequestSpec{Request: request(t, tmpl), SignerName: signer, Usages: usages,
			Username: username, Groups: groups},
	}
}

func n1Node() *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: "10.0.0.1"},
		{Type: corev1.NodeHostName, Address: "n1.example"},
	}}}
}

func TestDecide(t *testing.T) {
	nodeGroups := []string{"system:nodes", "system:authenticated"}
	bootstrap := []string{"system:bootstrappers", "system:authenticated"}
	serving := func(dns []string, ips ...string) x509.CertificateRequest {
		r := x509.CertificateRequest{Subject: n1Subject, DNSNames: dns}
		for _, ip := range ips {
			r.IPAddresses = append(r.IPAddresses, net.ParseIP(ip))
		}
		return r
	}
	cases := []struct {
		name  string
		csr   *certificatesv1.CertificateSigningRequest
		node  *corev1.Node
		want  verdict
		perms []string
	}{
		{"bootstrap client", newCSR(t, "a", certificatesv1.KubeAPIServerClientKubeletSignerName, "system:bootstrap:abcdef", bootstrap,
			x509.CertificateRequest{Subject: n1Subject}, clientUsages), nil, authorize, []string{"nodeclient"}},
		{"renewal", newCSR(t, "a", certificatesv1.KubeAPIServerClientKubeletSignerName, "system:node:n1", nodeGroups,
			x509.CertificateRequest{Subject: n1Subject}, clientUsages), nil, authorize, []string{"nodeclient", "selfnodeclient"}},
		{"client with SAN", newCSR(t, "a", certificatesv1.KubeAPIServerClientKubeletSignerName, "system:node:n1", nodeGroups,
			x509.CertificateRequest{Subject: n1Subject, DNSNames: []string{"n1"}}, clientUsages), nil, leave, nil},
		{"client for admin", newCSR(t, "a", certificatesv1.KubeAPIServerClientKubeletSignerName, "system:bootstrap:abcdef", bootstrap,
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}}}, clientUsages), nil, leave, nil},
		{"apiserver client", newCSR(t, "a", certificatesv1.KubeAPIServerClientSignerName, "alice", nil,
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice"}}, clientUsages), nil, leave, nil},
		{"serving matches node", newCSR(t, "a", certificatesv1.KubeletServingSignerName, "system:node:n1", nodeGroups,
			serving([]string{"n1", "N1.example"}, "10.0.0.1"), servingUsages), n1Node(), approve, nil},
		{"serving foreign IP", newCSR(t, "a", certificatesv1.KubeletServingSignerName, "system:node:n1", nodeGroups,
			serving([]string{"n1"}, "10.0.0.2"), servingUsages), n1Node(), leave, nil},
		{"serving foreign name", newCSR(t, "a", certificatesv1.KubeletServingSignerName, "system:node:n1", nodeGroups,
			serving([]string{"kubernetes.default.svc"}), servingUsages), n1Node(), leave, nil},
		{"serving for another node", newCSR(t, "a", certificatesv1.KubeletServingSignerName, "system:node:n2", nodeGroups,
			serving([]string{"n1"}), servingUsages), n1Node(), leave, nil},
		{"serving requested by bootstrap token", newCSR(t, "a", certificatesv1.KubeletServingSignerName, "system:bootstrap:abcdef", bootstrap,
			serving([]string{"n1"}), servingUsages), n1Node(), leave, nil},
		{"serving outside system:nodes", newCSR(t, "a", certificatesv1.KubeletServingSignerName, "system:node:n1", []string{"system:authenticated"},
			serving([]string{"n1"}), servingUsages), n1Node(), leave, nil},
		{"serving before node exists", newCSR(t, "a", certificatesv1.KubeletServingSignerName, "system:node:n1", nodeGroups,
			serving([]string{"n1"}), servingUsages), nil, waitForNode, nil},
		{"serving with client usage", newCSR(t, "a", certificatesv1.KubeletServingSignerName, "system:node:n1", nodeGroups,
			serving([]string{"n1"}), clientUsages), n1Node(), leave, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := csrsigning.ParseRequest(tc.csr.Spec.Request)
			if err != nil {
				t.Fatal(err)
			}
			d := decide(tc.csr, req, tc.node)
			if d.verdict != tc.want {
				t.Fatalf("verdict = %v, want %v", d.verdict, tc.want)
			}
			var perms []string
			for _, p := range d.perms {
				perms = append(perms, p.subresource)
			}
			if len(perms) != len(tc.perms) {
				t.Fatalf("permissions = %v, want %v", perms, tc.perms)
			}
			for i := range perms {
				if perms[i] != tc.perms[i] {
					t.Fatalf("permissions = %v, want %v", perms, tc.perms)
				}
			}
		})
	}
}

// TestReconcile runs the controller against a fake API whose authorizer
// grants only system:node:n1 selfnodeclient.
func TestReconcile(t *testing.T) {
	client := fake.NewClientset()
	var reviews []string
	client.PrependReactor("create", "subjectaccessreviews", func(a clienttesting.Action) (bool, runtime.Object, error) {
		sar := a.(clienttesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		ra := sar.Spec.ResourceAttributes
		reviews = append(reviews, sar.Spec.User+" "+ra.Verb+" "+ra.Resource+"/"+ra.Subresource)
		sar.Status.Allowed = sar.Spec.User == "system:node:n1" && ra.Subresource == "selfnodeclient" && ra.Group == certificatesv1.GroupName
		return true, sar, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informers: factory})
	if err != nil {
		t.Fatal(err)
	}
	nodeGroups := []string{"system:nodes"}
	objs := []*certificatesv1.CertificateSigningRequest{
		newCSR(t, "renewal", certificatesv1.KubeAPIServerClientKubeletSignerName, "system:node:n1", nodeGroups, x509.CertificateRequest{Subject: n1Subject}, clientUsages),
		newCSR(t, "stranger", certificatesv1.KubeAPIServerClientKubeletSignerName, "mallory", nil, x509.CertificateRequest{Subject: n1Subject}, clientUsages),
		newCSR(t, "serving", certificatesv1.KubeletServingSignerName, "system:node:n1", nodeGroups,
			x509.CertificateRequest{Subject: n1Subject, DNSNames: []string{"n1"}, IPAddresses: []net.IP{net.ParseIP("10.0.0.1")}}, servingUsages),
		newCSR(t, "serving-n2", certificatesv1.KubeletServingSignerName, "system:node:n2", nodeGroups,
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:n2", Organization: []string{"system:nodes"}}, DNSNames: []string{"n2"}}, servingUsages),
	}
	ctx := context.Background()
	csrIndexer := factory.Certificates().V1().CertificateSigningRequests().Informer().GetIndexer()
	if err := factory.Core().V1().Nodes().Informer().GetIndexer().Add(n1Node()); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if _, err := client.CertificatesV1().CertificateSigningRequests().Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := csrIndexer.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	wantRetry := map[string]bool{"stranger": true, "serving-n2": true}
	for _, o := range objs {
		err := c.Reconcile(ctx, o.Name)
		var after controller.RequeueAfter
		if retried := errors.As(err, &after); retried != wantRetry[o.Name] || (err != nil && !retried) {
			t.Errorf("reconcile %s: %v", o.Name, err)
		}
	}
	approvedBy := func(name string) string {
		got, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == certificatesv1.CertificateApproved && cond.Reason == ReasonAutoApproved {
				return cond.Message
			}
		}
		return ""
	}
	if m := approvedBy("renewal"); m != MessageSelfNodeClient {
		t.Errorf("renewal: approval message %q", m)
	}
	if m := approvedBy("serving"); m != MessageKubeletServingNode {
		t.Errorf("serving: approval message %q", m)
	}
	for _, name := range []string{"stranger", "serving-n2"} {
		if m := approvedBy(name); m != "" {
			t.Errorf("%s approved: %q", name, m)
		}
	}
	want := []string{
		"system:node:n1 create certificatesigningrequests/nodeclient",
		"system:node:n1 create certificatesigningrequests/selfnodeclient",
		"mallory create certificatesigningrequests/nodeclient",
	}
	if len(reviews) != len(want) {
		t.Fatalf("reviews = %q, want %q", reviews, want)
	}
	for i := range want {
		if reviews[i] != want[i] {
			t.Errorf("review %d = %q, want %q", i, reviews[i], want[i])
		}
	}

	// Old requests are no longer retried.
	c.now = func() time.Time { return time.Now().Add(2 * retryWindow) }
	if err := c.Reconcile(ctx, "stranger"); err != nil {
		t.Errorf("old request: %v", err)
	}
}
