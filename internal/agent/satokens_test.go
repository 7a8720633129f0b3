package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// tokenServer is a fake API server answering TokenRequests.
type tokenServer struct {
	client *fake.Clientset
	now    *time.Time
	calls  []tokenCall
	err    error
}

type tokenCall struct {
	namespace, serviceAccount string
	spec                      authenticationv1.TokenRequestSpec
}

func newTokenServer(now *time.Time) *tokenServer {
	s := &tokenServer{client: fake.NewClientset(), now: now}
	s.client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		if s.err != nil {
			return true, nil, s.err
		}
		create := a.(k8stesting.CreateActionImpl)
		req := create.GetObject().(*authenticationv1.TokenRequest)
		s.calls = append(s.calls, tokenCall{namespace: a.GetNamespace(), serviceAccount: create.Name, spec: req.Spec})
		out := req.DeepCopy()
		out.Status.Token = fmt.Sprintf("token-%d", len(s.calls))
		out.Status.ExpirationTimestamp = metav1.NewTime(s.now.Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second))
		return true, out, nil
	})
	return s
}

func TestServiceAccountTokenRequest(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := newTokenServer(&now)
	g := &apiGetter{client: srv.client}
	g.tokens.now = func() time.Time { return now }
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "uid-1"}}
	ctx := context.Background()

	tok, err := g.ServiceAccountToken(ctx, pod, &corev1.ServiceAccountTokenProjection{Path: "token"})
	if err != nil || tok != "token-1" {
		t.Fatalf("token = %q, %v", tok, err)
	}
	pod2 := pod.DeepCopy()
	pod2.UID, pod2.Spec.ServiceAccountName = "uid-2", "builder"
	if _, err := g.ServiceAccountToken(ctx, pod2, &corev1.ServiceAccountTokenProjection{Path: "t", Audience: "vault", ExpirationSeconds: ptr.To[int64](7200)}); err != nil {
		t.Fatal(err)
	}
	want := []tokenCall{
		{namespace: "ns", serviceAccount: "default", spec: authenticationv1.TokenRequestSpec{
			ExpirationSeconds: ptr.To[int64](3600),
			BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "web", UID: "uid-1"}}},
		{namespace: "ns", serviceAccount: "builder", spec: authenticationv1.TokenRequestSpec{
			Audiences: []string{"vault"}, ExpirationSeconds: ptr.To[int64](7200),
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "web", UID: "uid-2"}}},
	}
	if len(srv.calls) != len(want) {
		t.Fatalf("%d calls, want %d", len(srv.calls), len(want))
	}
	for i := range want {
		got := srv.calls[i]
		if got.namespace != want[i].namespace || got.serviceAccount != want[i].serviceAccount ||
			!slices.Equal(got.spec.Audiences, want[i].spec.Audiences) || *got.spec.ExpirationSeconds != *want[i].spec.ExpirationSeconds ||
			*got.spec.BoundObjectRef != *want[i].spec.BoundObjectRef {
			t.Errorf("call %d = %+v, want %+v", i, got, want[i])
		}
	}

	srv.err = apierrors.NewForbidden(schema.GroupResource{Resource: "serviceaccounts"}, "default", errors.New("no"))
	pod3 := pod.DeepCopy()
	pod3.UID = "uid-3"
	if _, err := g.ServiceAccountToken(ctx, pod3, &corev1.ServiceAccountTokenProjection{}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "ns/default") {
		t.Fatalf("API error = %v", err)
	}
}

func TestServiceAccountTokenCache(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "uid-1"}}
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db", UID: "uid-2"}}
	hour := &corev1.ServiceAccountTokenProjection{Path: "token"}
	twoDays := &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](48 * 3600)}
	type step struct {
		advance time.Duration
		pod     *corev1.Pod
		src     *corev1.ServiceAccountTokenProjection
		forget  bool // Forget the pod before asking
		want    string
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"reused until 80% of the life", []step{
			{0, pod, hour, false, "token-1"},
			{47 * time.Minute, pod, hour, false, "token-1"},
			{time.Minute, pod, hour, false, "token-2"}, // 48 min: 80% of an hour
			{10 * time.Minute, pod, hour, false, "token-2"},
		}},
		{"at most 24 hours", []step{
			{0, pod, twoDays, false, "token-1"},
			{23 * time.Hour, pod, twoDays, false, "token-1"},
			{time.Hour, pod, twoDays, false, "token-2"},
		}},
		{"keyed by pod, audience and expiration", []step{
			{0, pod, hour, false, "token-1"},
			{0, other, hour, false, "token-2"},
			{0, pod, &corev1.ServiceAccountTokenProjection{Audience: "vault"}, false, "token-3"},
			{0, pod, twoDays, false, "token-4"},
			{0, pod, hour, false, "token-1"},
		}},
		{"forgotten pods", []step{
			{0, pod, hour, false, "token-1"},
			{0, pod, hour, true, "token-2"},
		}},
		{"unused entries expire", []step{
			{0, pod, hour, false, "token-1"},
			{0, other, hour, false, "token-2"},
			{11 * time.Minute, other, hour, false, "token-2"}, // pod is not asked meanwhile
			{0, pod, hour, false, "token-3"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			srv := newTokenServer(&now)
			g := &apiGetter{client: srv.client}
			g.tokens.now = func() time.Time { return now }
			for i, s := range tc.steps {
				// The volume manager asks again and again while time
				// passes: every minute here.
				for left := s.advance; left > 0; {
					d := min(time.Minute, left)
					now, left = now.Add(d), left-d
					if left > 0 {
						if _, err := g.ServiceAccountToken(context.Background(), s.pod, s.src); err != nil {
							t.Fatal(err)
						}
					}
				}
				if s.forget {
					g.ForgetPod(s.pod.UID)
				}
				got, err := g.ServiceAccountToken(context.Background(), s.pod, s.src)
				if err != nil || got != s.want {
					t.Fatalf("step %d: token = %q, %v; want %q", i, got, err, s.want)
				}
			}
		})
	}
}
