package join

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/skiff-io/skiff/internal/pki"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Paths the server answers before authentication.
const (
	CACertsPath = "/skiff/v1/cacerts"
	JoinPath    = "/skiff/v1/join"
)

// certValidity is how long joined nodes' certificates last.
const certValidity = 365 * 24 * time.Hour

// Request is what a joining agent sends.
type Request struct {
	NodeName string   `json:"nodeName"`
	NodeIPs  []string `json:"nodeIPs,omitempty"`
}

// Response carries the joined node's credentials (PEM).
type Response struct {
	CA          string `json:"ca"`
	ClientCert  string `json:"clientCert"`
	ClientKey   string `json:"clientKey"`
	ServingCert string `json:"servingCert"`
	ServingKey  string `json:"servingKey"`
}

// Handler serves the CA certificate and the join endpoint, and passes
// every other request to next.
func Handler(bundle *pki.Bundle, token Token, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case CACertsPath:
			w.Header().Set("Content-Type", "application/x-pem-file")
			_, _ = w.Write(bundle.CAPEM())
		case JoinPath:
			serveJoin(w, r, bundle, token, log)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func serveJoin(w http.ResponseWriter, r *http.Request, bundle *pki.Bundle, token Token, log *slog.Logger) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	secret, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(secret), []byte(token.Secret)) != 1 {
		http.Error(w, "invalid join token", http.StatusUnauthorized)
		return
	}
	var req Request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, "invalid join request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if errs := validation.IsDNS1123Subdomain(req.NodeName); len(errs) > 0 {
		http.Error(w, "invalid node name: "+strings.Join(errs, "; "), http.StatusBadRequest)
		return
	}
	hosts := []string{req.NodeName}
	for _, ip := range req.NodeIPs {
		if net.ParseIP(ip) == nil {
			http.Error(w, "invalid node IP "+ip, http.StatusBadRequest)
			return
		}
		hosts = append(hosts, ip)
	}
	// The node's user and group, as the kubelet's: the node authorizer of
	// the security work keys on them.
	clientCert, clientKey, err := bundle.IssueClientCert("system:node:"+req.NodeName, []string{"system:nodes"}, certValidity)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	servingCert, servingKey, err := bundle.IssueServingCert(req.NodeName, hosts, certValidity)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	log.Info("node joined", "node", req.NodeName, "from", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(Response{CA: string(bundle.CAPEM()), ClientCert: string(clientCert), ClientKey: string(clientKey),
		ServingCert: string(servingCert), ServingKey: string(servingKey)})
}
