package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/skiff-io/skiff/internal/agent/agentserver/agentapi"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// maxAgentErrorBody bounds how much of an agent's error answer is read.
const maxAgentErrorBody = 50000

var podLogOptionsKind = schema.GroupKind{Kind: "PodLogOptions"}

// serveLog serves pods/log: validate the options, pick the container,
// and stream the agent's /containerLogs answer to the client, flushing as
// bytes arrive when following. A pod without a node has no log yet: 204.
func (p *agentProxy) serveLog(w http.ResponseWriter, r *http.Request, pod *corev1.Pod) error {
	opts, err := agentapi.DecodeLogOptions(r.URL.Query())
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	if errs := agentapi.ValidateLogOptions(opts); len(errs) > 0 {
		return apierrors.NewInvalid(podLogOptionsKind, pod.Name, errs)
	}
	container, err := defaultContainer(pod, opts.Container)
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	loc, err := p.agentLocation(r.Context(), pod.Spec.NodeName, agentapi.ContainerLogsPath(pod.Namespace, pod.Name, container), agentapi.EncodeLogOptions(opts))
	if err != nil {
		return err
	}
	transport := p.agents
	if opts.InsecureSkipTLSVerifyBackend {
		transport = p.insecureAgents
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, loc.String(), nil)
	if err != nil {
		return unknownError(err)
	}
	client := &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return errors.New("redirects from node agents are not followed")
	}}
	resp, err := client.Do(req)
	if err != nil {
		return unknownError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < http.StatusOK || resp.StatusCode > http.StatusPartialContent {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAgentErrorBody))
		return agentError(resp.StatusCode, body, pod.Name)
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	if err := copyFlushing(w, resp.Body, opts.Follow); err != nil && r.Context().Err() == nil {
		p.log.Debug("pod log stream ended with an error", "namespace", pod.Namespace, "pod", pod.Name, "err", err)
	}
	return nil
}

// agentError turns an agent's error answer into the API error Kubernetes
// returns for a kubelet's: 400 and 500 keep the agent's message, other
// codes become a generic server response naming pods/log. A Status body
// contributes its message, any other body its text.
func agentError(code int, body []byte, name string) error {
	msg := strings.TrimSpace(string(body))
	var st metav1.Status
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" && st.Message != "" {
		msg = st.Message
	}
	switch code {
	case http.StatusInternalServerError:
		return apierrors.NewInternalError(errors.New(msg))
	case http.StatusBadRequest:
		return apierrors.NewBadRequest(msg)
	}
	return apierrors.NewGenericServerResponse(code, "", schema.GroupResource{Resource: "pods/log"}, name, msg, 0, false)
}

// copyFlushing copies src to w, flushing after every read when flush is
// set so a followed log reaches the client line by line.
func copyFlushing(w http.ResponseWriter, src io.Reader, flush bool) error {
	if !flush {
		_, err := io.Copy(w, src)
		return err
	}
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return fmt.Errorf("flushing log stream: %w", err)
	}
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if ferr := rc.Flush(); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
