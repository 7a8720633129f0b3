package agentapi

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPaths(t *testing.T) {
	tests := []struct{ got, want string }{
		{ContainerLogsPath("default", "web", "app"), "/containerLogs/default/web/app"},
		{ExecPath("ns", "p", "c"), "/exec/ns/p/c"},
		{AttachPath("ns", "p", "c"), "/attach/ns/p/c"},
		{PortForwardPath("ns", "p"), "/portForward/ns/p"},
		{ExecPath("ns", "a/b", "c d"), "/exec/ns/a%2Fb/c%20d"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestDecodeLogOptions(t *testing.T) {
	since := metav1.NewTime(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	all := ptr.To(corev1.LogStreamAll)
	tests := []struct {
		name    string
		query   string
		want    *corev1.PodLogOptions
		wantErr bool
	}{
		{name: "empty", query: "", want: &corev1.PodLogOptions{}},
		{name: "flags", query: "follow=true&previous=1&timestamps", want: &corev1.PodLogOptions{Follow: true, Previous: true, Timestamps: true, Stream: all}},
		{name: "false flags", query: "follow=false&previous=0&timestamps=FALSE", want: &corev1.PodLogOptions{Stream: all}},
		{name: "numbers", query: "tailLines=10&limitBytes=500&sinceSeconds=60", want: &corev1.PodLogOptions{TailLines: ptr.To[int64](10), LimitBytes: ptr.To[int64](500), SinceSeconds: ptr.To[int64](60), Stream: all}},
		{name: "since time", query: "sinceTime=2024-05-01T10:00:00Z&container=c", want: &corev1.PodLogOptions{SinceTime: &since, Container: "c", Stream: all}},
		{name: "stream", query: "stream=Stderr", want: &corev1.PodLogOptions{Stream: ptr.To(corev1.LogStreamStderr)}},
		{name: "empty number is absent", query: "tailLines=", want: &corev1.PodLogOptions{Stream: all}},
		{name: "bad number", query: "tailLines=x", wantErr: true},
		{name: "bad time", query: "sinceTime=yesterday", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeLogOptions(q)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLogOptionsRoundTrip(t *testing.T) {
	since := metav1.NewTime(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	in := &corev1.PodLogOptions{Follow: true, Previous: true, Timestamps: true, SinceTime: &since,
		TailLines: ptr.To[int64](3), LimitBytes: ptr.To[int64](9), Stream: ptr.To(corev1.LogStreamStdout)}
	out, err := DecodeLogOptions(EncodeLogOptions(in))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
	q := EncodeLogOptions(&corev1.PodLogOptions{Container: "c", Stream: ptr.To(corev1.LogStreamAll), InsecureSkipTLSVerifyBackend: true})
	if len(q) != 0 {
		t.Errorf("container, All stream and insecureSkipTLSVerifyBackend must not be sent: %v", q)
	}
}

func TestValidateLogOptions(t *testing.T) {
	since := metav1.Now()
	tests := []struct {
		name string
		opts corev1.PodLogOptions
		want []string // "field: message" fragments, in order
	}{
		{name: "ok", opts: corev1.PodLogOptions{TailLines: ptr.To[int64](0), LimitBytes: ptr.To[int64](1), SinceSeconds: ptr.To[int64](1)}},
		{name: "negative tail", opts: corev1.PodLogOptions{TailLines: ptr.To[int64](-1)}, want: []string{"tailLines: Invalid value: -1: must be greater than or equal to 0"}},
		{name: "zero limit", opts: corev1.PodLogOptions{LimitBytes: ptr.To[int64](0)}, want: []string{"limitBytes: Invalid value: 0: must be greater than 0"}},
		{name: "zero since", opts: corev1.PodLogOptions{SinceSeconds: ptr.To[int64](0)}, want: []string{"sinceSeconds: Invalid value: 0: must be greater than 0"}},
		{name: "both since", opts: corev1.PodLogOptions{SinceSeconds: ptr.To[int64](5), SinceTime: &since}, want: []string{"Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"}},
		{name: "bad stream", opts: corev1.PodLogOptions{Stream: ptr.To("Both")}, want: []string{`stream: Unsupported value: "Both"`}},
		{name: "stream with tail", opts: corev1.PodLogOptions{Stream: ptr.To(corev1.LogStreamStderr), TailLines: ptr.To[int64](1)}, want: []string{"`tailLines` and specific `stream` are mutually exclusive for now"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ValidateLogOptions(&tt.opts)
			if len(errs) != len(tt.want) {
				t.Fatalf("errors = %v, want %d", errs, len(tt.want))
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), tt.want[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, e.Error(), tt.want[i])
				}
			}
		})
	}
}

func TestDecodeExecOptions(t *testing.T) {
	q, _ := url.ParseQuery("command=sh&command=-c&command=echo+hi&stdin=true&tty=true&container=app")
	got := DecodeExecOptions(q)
	want := &corev1.PodExecOptions{Stdin: true, Stdout: true, Stderr: true, TTY: true, Container: "app", Command: []string{"sh", "-c", "echo hi"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// stdout and stderr are defaulted on, whatever the client says.
	q, _ = url.ParseQuery("command=ls&stdout=false&stderr=false")
	if got := DecodeExecOptions(q); !got.Stdout || !got.Stderr || got.Stdin {
		t.Errorf("defaulting: got %+v", got)
	}
	if got := DecodeAttachOptions(url.Values{}); got.Stdout || got.Stderr {
		t.Errorf("no parameters, no defaulting: got %+v", got)
	}
	q, _ = url.ParseQuery("stdin=1&container=c")
	if got := DecodeAttachOptions(q); !got.Stdin || !got.Stdout || !got.Stderr || got.Container != "c" {
		t.Errorf("attach: got %+v", got)
	}
}

func TestStreamQuery(t *testing.T) {
	tests := []struct {
		name    string
		in      StreamOptions
		cmd     []string
		want    StreamOptions
		wantErr bool
	}{
		{name: "all", in: StreamOptions{Stdin: true, Stdout: true, Stderr: true}, cmd: []string{"ls", "-l"}, want: StreamOptions{Stdin: true, Stdout: true, Stderr: true}},
		{name: "tty drops stderr", in: StreamOptions{Stdin: true, Stdout: true, Stderr: true, TTY: true}, want: StreamOptions{Stdin: true, Stdout: true, TTY: true}},
		{name: "stdin only", in: StreamOptions{Stdin: true}, want: StreamOptions{Stdin: true}},
		{name: "none", in: StreamOptions{TTY: true}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := EncodeStreamQuery(tt.in, tt.cmd)
			got, cmd, err := DecodeStreamQuery(q)
			if tt.wantErr {
				if err == nil || err.Error() != "you must specify at least 1 of stdin, stdout, stderr" {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || !reflect.DeepEqual(cmd, tt.cmd) {
				t.Errorf("got %+v %v, want %+v %v", got, cmd, tt.want, tt.cmd)
			}
		})
	}
	if q := EncodeStreamQuery(StreamOptions{Stdin: true, Stdout: true}, nil); q.Get("input") != "1" || q.Get("output") != "1" || q.Has("error") {
		t.Errorf("kubelet parameter names: %v", q)
	}
}

func TestPorts(t *testing.T) {
	q, _ := url.ParseQuery("ports=80,443&ports=8080")
	opts, err := DecodePortForwardOptions(q)
	if err != nil || !reflect.DeepEqual(opts.Ports, []int32{80, 443, 8080}) {
		t.Fatalf("DecodePortForwardOptions = %v, %v", opts, err)
	}
	if _, err := DecodePortForwardOptions(url.Values{"ports": {"http"}}); err == nil {
		t.Error("named port accepted")
	}
	enc := EncodePorts(opts.Ports)
	if enc.Get("port") != "80,443,8080" {
		t.Errorf("EncodePorts = %v", enc)
	}
	back, err := DecodePorts(enc)
	if err != nil || !reflect.DeepEqual(back, opts.Ports) {
		t.Errorf("DecodePorts = %v, %v", back, err)
	}
	if len(EncodePorts(nil)) != 0 {
		t.Error("no ports must send no parameter")
	}
	for _, bad := range []string{"0", "70000", "x", ""} {
		if _, err := DecodePorts(url.Values{"port": {bad}}); err == nil {
			t.Errorf("port %q accepted", bad)
		}
	}
}
