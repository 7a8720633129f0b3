package apiserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/agent/agentserver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodLog(t *testing.T) {
	var got agentserver.LogRequest
	env := newStreamEnv(t, func(_ context.Context, req agentserver.LogRequest, w io.Writer) error {
		got = req
		switch req.Container {
		case "b":
			return fmt.Errorf("container %q in pod %q is waiting to start: ContainerCreating: %w", req.Container, req.Pod, agentserver.ErrBadRequest)
		case "setup":
			return fmt.Errorf("no log for %s: %w", req.Container, agentserver.ErrNotFound)
		}
		_, err := fmt.Fprintf(w, "hello from %s/%s\n", req.Pod, req.Container)
		return err
	})

	tests := []struct {
		name       string
		pod, query string
		wantCode   int
		wantBody   string // exact body for 200
		wantMsg    string // Status message fragment otherwise
		wantReason metav1.StatusReason
		check      func(t *testing.T)
	}{
		{name: "only container", pod: "web", wantCode: 200, wantBody: "hello from web/app\n"},
		{name: "options reach the agent", pod: "web", query: "tailLines=3&timestamps=true&sinceSeconds=10&limitBytes=100&container=app", wantCode: 200, check: func(t *testing.T) {
			o := got.Opts
			if o.TailLines == nil || *o.TailLines != 3 || !o.Timestamps || o.SinceSeconds == nil || *o.SinceSeconds != 10 || o.LimitBytes == nil || *o.LimitBytes != 100 {
				t.Errorf("agent got %+v", o)
			}
		}},
		{name: "named container", pod: "multi", query: "container=a", wantCode: 200, wantBody: "hello from multi/a\n"},
		{name: "init container", pod: "multi", query: "container=setup", wantCode: 404, wantReason: metav1.StatusReasonNotFound,
			wantMsg: "the server could not find the requested resource ( pods/log multi)"},
		{name: "container must be named", pod: "multi", wantCode: 400, wantReason: metav1.StatusReasonBadRequest,
			wantMsg: "a container name must be specified for pod multi, choose one of: [setup a b]"},
		{name: "unknown container", pod: "web", query: "container=nope", wantCode: 400, wantMsg: "container nope is not valid for pod web"},
		{name: "agent says bad request", pod: "multi", query: "container=b", wantCode: 400, wantReason: metav1.StatusReasonBadRequest,
			wantMsg: `container "b" in pod "multi" is waiting to start: ContainerCreating: bad request`},
		{name: "no such pod", pod: "nope", wantCode: 404, wantMsg: `pods "nope" not found`},
		{name: "unscheduled", pod: "pending", wantCode: 204},
		{name: "node gone", pod: "lost", wantCode: 404, wantMsg: `nodes "gone" not found`},
		{name: "invalid options", pod: "web", query: "tailLines=-1&limitBytes=0", wantCode: 422, wantReason: metav1.StatusReasonInvalid,
			wantMsg: `PodLogOptions "web" is invalid: [tailLines: Invalid value: -1: must be greater than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0]`},
		{name: "both since", pod: "web", query: "sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z", wantCode: 422, wantMsg: "at most one of `sinceTime` or `sinceSeconds` may be specified"},
		{name: "malformed", pod: "web", query: "tailLines=ten", wantCode: 400, wantMsg: `strconv.ParseInt: parsing "ten": invalid syntax`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(env.podURL(tt.pod, "log", tt.query))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantCode, body)
			}
			switch {
			case tt.wantCode == 200:
				if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
					t.Errorf("Content-Type = %q", ct)
				}
				if tt.wantBody != "" && string(body) != tt.wantBody {
					t.Errorf("body = %q, want %q", body, tt.wantBody)
				}
			case tt.wantCode >= 400:
				var st metav1.Status
				if err := json.Unmarshal(body, &st); err != nil {
					t.Fatalf("not a Status: %s", body)
				}
				if !strings.Contains(st.Message, tt.wantMsg) || (tt.wantReason != "" && st.Reason != tt.wantReason) || int(st.Code) != tt.wantCode {
					t.Errorf("Status = %+v\nwant message containing %q", st, tt.wantMsg)
				}
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
}

// TestPodLogFollow proves a followed log reaches the client through the
// API server while the agent is still writing it.
func TestPodLogFollow(t *testing.T) {
	release := make(chan struct{})
	env := newStreamEnv(t, func(ctx context.Context, req agentserver.LogRequest, w io.Writer) error {
		if !req.Opts.Follow {
			return fmt.Errorf("follow was not passed on: %w", agentserver.ErrBadRequest)
		}
		if _, err := io.WriteString(w, "first\n"); err != nil {
			return err
		}
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		_, err := io.WriteString(w, "second\n")
		return err
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.podURL("web", "log", "follow=true"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	close(release)
	if rest, err := io.ReadAll(r); err != nil || string(rest) != "second\n" {
		t.Fatalf("rest = %q, %v", rest, err)
	}
}

func TestPodLogMethodAndNoCredentials(t *testing.T) {
	env := newStreamEnv(t, func(context.Context, agentserver.LogRequest, io.Writer) error { return nil })
	resp, err := http.Post(env.podURL("web", "log", ""), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST pods/log = %d, want 405", resp.StatusCode)
	}

	env.proxy.agentTLS = nil
	resp, err = http.Get(env.podURL("web", "log", ""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("without agent credentials: %d, want 503", resp.StatusCode)
	}
}
