package certificates

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/skiff-io/skiff/internal/registry"
)

func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testRequestPEM(t *testing.T) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice"}}, testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func testCertPEM(t *testing.T) []byte {
	t.Helper()
	key := testKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "alice"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func testCSR(t *testing.T) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "req"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    testRequestPEM(t),
			SignerName: "kubernetes.io/kube-apiserver-client",
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth},
			Username:   "alice",
		},
	}
}

func cond(t certificatesv1.RequestConditionType) certificatesv1.CertificateSigningRequestCondition {
	// Stored conditions carry timestamps: the server stamped them.
	at := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	return certificatesv1.CertificateSigningRequestCondition{Type: t, Status: corev1.ConditionTrue, Reason: "r", LastUpdateTime: at, LastTransitionTime: at}
}

// errStrings renders errors as "Type field" so tables stay short.
func errStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	slices.Sort(out)
	return out
}

func TestResource(t *testing.T) {
	r := CertificateSigningRequests()
	if r.Namespaced || r.Resource != "certificatesigningrequests" || r.ShortNames[0] != "csr" ||
		!r.HasSubresource("status") || !r.HasSubresource("approval") || r.SubresourceStrategies["approval"] == nil {
		t.Errorf("unexpected resource %+v", r)
	}
	if msgs := r.ValidateName("a:b", false); len(msgs) != 0 {
		t.Errorf("names with colons must be allowed: %v", msgs)
	}
	if msgs := r.ValidateName("a/b", false); len(msgs) == 0 {
		t.Error("names with slashes must be refused")
	}
}

func TestSelectableFields(t *testing.T) {
	if got := (csrStrategy{}).SelectableFields(testCSR(t))["spec.signerName"]; got != "kubernetes.io/kube-apiserver-client" {
		t.Errorf("spec.signerName = %q", got)
	}
}

func TestValidateCreate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*certificatesv1.CertificateSigningRequest)
		want   []string
	}{
		{"valid", func(*certificatesv1.CertificateSigningRequest) {}, nil},
		{"not pem", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Request = []byte("junk") }, []string{"FieldValueInvalid spec.request"}},
		{"wrong block", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Request = testCertPEM(t) }, []string{"FieldValueInvalid spec.request"}},
		{"bad signature", func(c *certificatesv1.CertificateSigningRequest) {
			block, _ := pem.Decode(c.Spec.Request)
			block.Bytes[len(block.Bytes)-3] ^= 0xff
			c.Spec.Request = pem.EncodeToMemory(block)
		}, []string{"FieldValueInvalid spec.request"}},
		{"no usages", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Usages = nil }, []string{"FieldValueRequired spec.usages"}},
		{"unknown and duplicate usage", func(c *certificatesv1.CertificateSigningRequest) {
			c.Spec.Usages = []certificatesv1.KeyUsage{"client auth", "flying", "client auth"}
		}, []string{"FieldValueDuplicate spec.usages[2]", "FieldValueNotSupported spec.usages[1]"}},
		{"no signer", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "" }, []string{"FieldValueRequired spec.signerName"}},
		{"signer without path", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "example.com" }, []string{"FieldValueInvalid spec.signerName"}},
		{"signer single-label domain", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "example/signer" }, []string{"FieldValueInvalid spec.signerName"}},
		{"signer bad path", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "example.com/Bad_Path" }, []string{"FieldValueInvalid spec.signerName"}},
		{"signer ns.name path", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "example.com/ns.my-signer" }, nil},
		{"legacy signer", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = legacyUnknownSigner }, []string{"FieldValueInvalid spec.signerName"}},
		{"expiration too short", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.ExpirationSeconds = ptr.To[int32](599) }, []string{"FieldValueInvalid spec.expirationSeconds"}},
		{"expiration minimum", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.ExpirationSeconds = ptr.To[int32](600) }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testCSR(t)
			tc.mutate(c)
			got := errStrings(csrStrategy{}.Validate(c))
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPrepareForCreateDropsStatus(t *testing.T) {
	c := testCSR(t)
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved)}
	c.Status.Certificate = testCertPEM(t)
	csrStrategy{}.PrepareForCreate(c)
	if len(c.Status.Conditions) != 0 || c.Status.Certificate != nil {
		t.Errorf("status kept: %+v", c.Status)
	}
}

func TestMainUpdateKeepsSpecAndStatus(t *testing.T) {
	old := testCSR(t)
	c := old.DeepCopy()
	c.Labels = map[string]string{"a": "b"}
	c.Spec.SignerName = "example.com/other"
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved)}
	csrStrategy{}.PrepareForUpdate(c, old)
	if c.Spec.SignerName != old.Spec.SignerName || len(c.Status.Conditions) != 0 || c.Labels["a"] != "b" {
		t.Errorf("update not limited to metadata: %+v", c)
	}
	if errs := (csrStrategy{}).ValidateUpdate(c, old); len(errs) != 0 {
		t.Errorf("errors = %v", errs)
	}
}

// update runs an update through the path sub ("", "status", "approval") the
// way the API server does and returns the result and its errors.
func update(sub string, obj, old *certificatesv1.CertificateSigningRequest) (*certificatesv1.CertificateSigningRequest, []string) {
	r := CertificateSigningRequests()
	r.Strategy.Default(obj)
	var errs field.ErrorList
	switch sub {
	case "status":
		s := r.Strategy.(registry.StatusStrategy)
		s.PrepareForStatusUpdate(obj, old)
		errs = s.ValidateStatusUpdate(obj, old)
	case "approval":
		s := r.SubresourceStrategies["approval"]
		s.PrepareForUpdate(obj, old)
		errs = s.ValidateUpdate(obj, old)
	default:
		r.Strategy.PrepareForUpdate(obj, old)
		errs = r.Strategy.ValidateUpdate(obj, old)
	}
	return obj, errStrings(errs)
}

func TestSubresourceTransitions(t *testing.T) {
	cert := testCertPEM(t)
	approved := []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved)}
	denied := []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateDenied)}
	cases := []struct {
		name      string
		sub       string
		oldStatus certificatesv1.CertificateSigningRequestStatus
		newStatus certificatesv1.CertificateSigningRequestStatus
		want      []string
	}{
		{"approve", "approval", certificatesv1.CertificateSigningRequestStatus{},
			certificatesv1.CertificateSigningRequestStatus{Conditions: approved}, nil},
		{"deny", "approval", certificatesv1.CertificateSigningRequestStatus{},
			certificatesv1.CertificateSigningRequestStatus{Conditions: denied}, nil},
		{"approve and deny", "approval", certificatesv1.CertificateSigningRequestStatus{},
			certificatesv1.CertificateSigningRequestStatus{Conditions: append(slices.Clone(approved), cond(certificatesv1.CertificateDenied))},
			[]string{"FieldValueInvalid status.conditions"}},
		{"deny after approve", "approval", certificatesv1.CertificateSigningRequestStatus{Conditions: approved},
			certificatesv1.CertificateSigningRequestStatus{Conditions: denied},
			[]string{"FieldValueForbidden status.conditions"}},
		{"remove approval", "approval", certificatesv1.CertificateSigningRequestStatus{Conditions: approved},
			certificatesv1.CertificateSigningRequestStatus{}, []string{"FieldValueForbidden status.conditions"}},
		{"condition status False refused", "approval", certificatesv1.CertificateSigningRequestStatus{},
			certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionFalse}}},
			[]string{"FieldValueNotSupported status.conditions[0].status"}},
		{"approve through status", "status", certificatesv1.CertificateSigningRequestStatus{},
			certificatesv1.CertificateSigningRequestStatus{Conditions: approved}, []string{"FieldValueForbidden status.conditions"}},
		{"approve through main resource is ignored", "", certificatesv1.CertificateSigningRequestStatus{},
			certificatesv1.CertificateSigningRequestStatus{Conditions: approved}, nil},
		{"issue", "status", certificatesv1.CertificateSigningRequestStatus{Conditions: approved},
			certificatesv1.CertificateSigningRequestStatus{Conditions: approved, Certificate: cert}, nil},
		{"fail", "status", certificatesv1.CertificateSigningRequestStatus{Conditions: approved},
			certificatesv1.CertificateSigningRequestStatus{Conditions: append(slices.Clone(approved), cond(certificatesv1.CertificateFailed))}, nil},
		{"reissue", "status", certificatesv1.CertificateSigningRequestStatus{Conditions: approved, Certificate: cert},
			certificatesv1.CertificateSigningRequestStatus{Conditions: approved, Certificate: testCertPEM(t)},
			[]string{"FieldValueForbidden status.certificate"}},
		{"bad certificate", "status", certificatesv1.CertificateSigningRequestStatus{Conditions: approved},
			certificatesv1.CertificateSigningRequestStatus{Conditions: approved, Certificate: testRequestPEM(t)},
			[]string{"FieldValueInvalid status.certificate"}},
		{"certificate through approval is ignored", "approval", certificatesv1.CertificateSigningRequestStatus{Conditions: approved},
			certificatesv1.CertificateSigningRequestStatus{Conditions: approved, Certificate: cert}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := testCSR(t)
			old.Status = tc.oldStatus
			obj := old.DeepCopy()
			obj.Status = *tc.newStatus.DeepCopy()
			obj.Spec.Username = "mallory" // spec changes never stick
			got, errs := update(tc.sub, obj, old)
			if !slices.Equal(errs, tc.want) {
				t.Fatalf("errors = %v, want %v", errs, tc.want)
			}
			if got.Spec.Username != "alice" {
				t.Errorf("spec changed through %q", tc.sub)
			}
			if tc.sub == "approval" && string(got.Status.Certificate) != string(old.Status.Certificate) {
				t.Error("approval changed the certificate")
			}
		})
	}
}

func TestConditionTimestamps(t *testing.T) {
	then := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	old := testCSR(t)
	old.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{
		{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, LastTransitionTime: then, LastUpdateTime: then}}
	obj := old.DeepCopy()
	obj.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{
		{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, LastTransitionTime: then, LastUpdateTime: then},
		{Type: "Custom", Status: corev1.ConditionFalse},
	}
	// A same-typed condition reappearing without timestamps keeps the
	// old transition time.
	prev := old.DeepCopy()
	prev.Status.Conditions = append(prev.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{Type: "Custom", Status: corev1.ConditionFalse, LastTransitionTime: then})
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	stampConditions(obj, prev, now)
	c := obj.Status.Conditions[1]
	if !c.LastUpdateTime.Time.Equal(now) || !c.LastTransitionTime.Time.Equal(then.Time) {
		t.Errorf("custom condition times = %v / %v", c.LastUpdateTime, c.LastTransitionTime)
	}
	obj.Status.Conditions[1].LastTransitionTime = metav1.Time{}
	stampConditions(obj, old, now)
	if !obj.Status.Conditions[1].LastTransitionTime.Time.Equal(now) {
		t.Errorf("new condition transition time = %v", obj.Status.Conditions[1].LastTransitionTime)
	}
}

func TestDefaultConditionStatus(t *testing.T) {
	c := testCSR(t)
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved}}
	csrStrategy{}.Default(c)
	if c.Status.Conditions[0].Status != corev1.ConditionTrue {
		t.Errorf("status = %q", c.Status.Conditions[0].Status)
	}
}

func TestTableRow(t *testing.T) {
	c := testCSR(t)
	c.CreationTimestamp = metav1.NewTime(time.Now().Add(-time.Hour))
	c.Spec.ExpirationSeconds = ptr.To[int32](3600)
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved), cond(certificatesv1.CertificateFailed)}
	row := csrStrategy{}.TableRow(c)
	cols := csrStrategy{}.TableColumns()
	if len(row) != len(cols) {
		t.Fatalf("%d cells for %d columns", len(row), len(cols))
	}
	want := []interface{}{"req", "60m", "kubernetes.io/kube-apiserver-client", "alice", "60m", "Approved,Failed"}
	for i := range want {
		if row[i] != want[i] {
			t.Errorf("cell %s = %v, want %v", cols[i].Name, row[i], want[i])
		}
	}
	c.Spec.ExpirationSeconds = nil
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateDenied)}
	c.Status.Certificate = []byte("x")
	row = csrStrategy{}.TableRow(c)
	if row[4] != "<none>" || row[5] != "Denied,Issued" {
		t.Errorf("row = %v", row)
	}
	if got := CSRConditionSummary(testCSR(t)); got != "Pending" {
		t.Errorf("summary = %q", got)
	}
	if names := []string{cols[2].Name, cols[3].Name, cols[4].Name, cols[5].Name}; strings.Join(names, ",") != "SignerName,Requestor,RequestedDuration,Condition" {
		t.Errorf("columns = %v", names)
	}
}
