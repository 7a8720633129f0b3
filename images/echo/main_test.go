package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestListenAddress(t *testing.T) {
	tests := []struct {
		flag, port, want string
	}{
		{want: ":8080"},
		{port: "9090", want: ":9090"},
		{flag: "127.0.0.1:7000", port: "9090", want: "127.0.0.1:7000"},
		{flag: ":81", want: ":81"},
	}
	for _, tt := range tests {
		if got := listenAddress(tt.flag, tt.port); got != tt.want {
			t.Errorf("listenAddress(%q, %q) = %q, want %q", tt.flag, tt.port, got, tt.want)
		}
	}
}

// TestServeShutsDownGracefully serves a request, cancels the context (what
// SIGTERM does) and expects serve to return nil with the listener closed.
func TestServeShutsDownGracefully(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var exits []int
	s := testServer(map[string]string{"VERSION": "1.0"}, &exits)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, s.handler()) }()

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "path=/hello\n") || !strings.Contains(string(body), "version=1.0\n") {
		t.Errorf("unexpected body %q", body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after cancellation")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("listener still accepts connections after shutdown")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-nope"}, &stderr); code != 2 {
		t.Errorf("run with an unknown flag = %d, want 2", code)
	}
	if code := run(context.Background(), []string{"-listen", "256.0.0.1:1"}, &stderr); code != 1 {
		t.Errorf("run with an unusable address = %d, want 1", code)
	}
}
