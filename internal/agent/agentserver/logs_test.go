package agentserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestContainerLogs(t *testing.T) {
	var got LogRequest
	logs := func(_ context.Context, req LogRequest, w io.Writer) error {
		got = req
		switch req.Pod {
		case "missing":
			return fmt.Errorf("pod %q: %w", req.Pod, ErrNotFound)
		case "waiting":
			return fmt.Errorf("container %q in pod %q is waiting to start: ContainerCreating: %w", req.Container, req.Pod, ErrBadRequest)
		case "empty":
			return nil
		}
		_, err := io.WriteString(w, "line 1\nline 2\n")
		return err
	}
	agent := httptest.NewServer(New(Config{Logs: logs}))
	defer agent.Close()

	tests := []struct {
		name     string
		path     string
		wantCode int
		wantBody string
		wantMsg  string
		check    func(t *testing.T)
	}{
		{name: "plain", path: "/containerLogs/ns/web/app?tailLines=5&timestamps=true", wantCode: 200, wantBody: "line 1\nline 2\n", check: func(t *testing.T) {
			if got.Namespace != "ns" || got.Pod != "web" || got.Container != "app" || got.Opts.Container != "app" ||
				*got.Opts.TailLines != 5 || !got.Opts.Timestamps || got.Opts.Follow {
				t.Errorf("LogRequest = %+v", got)
			}
		}},
		{name: "legacy tail", path: "/containerLogs/ns/web/app?tail=7", wantCode: 200, check: func(t *testing.T) {
			if got.Opts.TailLines == nil || *got.Opts.TailLines != 7 {
				t.Errorf("tail=7 gave %+v", got.Opts)
			}
		}},
		{name: "empty log", path: "/containerLogs/ns/empty/app", wantCode: 200, wantBody: ""},
		{name: "not found", path: "/containerLogs/ns/missing/app", wantCode: 404, wantMsg: `pod "missing": not found`},
		{name: "waiting", path: "/containerLogs/ns/waiting/app", wantCode: 400, wantMsg: "is waiting to start"},
		{name: "malformed", path: "/containerLogs/ns/web/app?sinceSeconds=abc", wantCode: 400, wantMsg: "invalid syntax"},
		{name: "invalid", path: "/containerLogs/ns/web/app?limitBytes=0", wantCode: 422, wantMsg: `PodLogOptions "web" is invalid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(agent.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if tt.wantCode != 200 {
				if st := decodeStatus(t, resp.Body); !strings.Contains(st.Message, tt.wantMsg) || int(st.Code) != tt.wantCode {
					t.Errorf("Status = %+v, want message containing %q", st, tt.wantMsg)
				}
				return
			}
			body, _ := io.ReadAll(resp.Body)
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body = %q", body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
}

// TestContainerLogsFollowFlushes proves that a followed log reaches the
// client while the log callback is still running.
func TestContainerLogsFollowFlushes(t *testing.T) {
	release := make(chan struct{})
	logs := func(ctx context.Context, req LogRequest, w io.Writer) error {
		if !req.Opts.Follow {
			return fmt.Errorf("follow not passed: %w", ErrBadRequest)
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
	}
	agent := httptest.NewServer(New(Config{Logs: logs}))
	defer agent.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", agent.URL+"/containerLogs/ns/web/app?follow=true", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line = %q, %v (not flushed while following?)", line, err)
	}
	close(release)
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest = %q, %v", rest, err)
	}
}

func TestPodsHealthAndDelegates(t *testing.T) {
	pods := []*corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}}, nil, {ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}}}
	stats := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"node":{}}`) })
	full := httptest.NewServer(New(Config{Pods: func() []*corev1.Pod { return pods }, StatsSummary: stats}))
	defer full.Close()
	empty := httptest.NewServer(New(Config{}))
	defer empty.Close()

	get := func(base, path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(full.URL, "/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	code, body := get(full.URL, "/pods")
	var list corev1.PodList
	if err := json.Unmarshal([]byte(body), &list); err != nil || code != 200 {
		t.Fatalf("/pods = %d %q: %v", code, body, err)
	}
	if list.Kind != "PodList" || list.APIVersion != "v1" || len(list.Items) != 2 || list.Items[1].Name != "b" {
		t.Errorf("/pods = %+v", list)
	}
	if code, body := get(full.URL, "/stats/summary"); code != 200 || body != `{"node":{}}` {
		t.Errorf("/stats/summary = %d %q", code, body)
	}
	for _, p := range []string{"/metrics/resource", "/pods", "/stats/summary", "/containerLogs/ns/p/c", "/nowhere"} {
		if code, _ := get(empty.URL, p); code != 404 {
			t.Errorf("%s without a handler = %d, want 404", p, code)
		}
	}
	if code, body := get(empty.URL, "/pods"); !strings.Contains(body, `"kind":"Status"`) || code != 404 {
		t.Errorf("/pods without a callback = %d %q", code, body)
	}
}
