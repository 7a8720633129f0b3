package join

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skiff-io/skiff/internal/agent/certs"
)

// FetchCA returns the cluster CA of server after checking it against the
// token's hash. The CA is fetched without TLS verification, which is
// what the hash check replaces.
func FetchCA(ctx context.Context, server string, token Token) ([]byte, error) {
	server = strings.TrimSuffix(server, "/")
	insecure := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}} //nolint:gosec // checked against the token below
	caPEM, err := get(ctx, insecure, server+CACertsPath)
	if err != nil {
		return nil, fmt.Errorf("join: fetching the cluster CA: %w: %w", errUnreachable, err)
	}
	if err := checkCA(caPEM, token); err != nil {
		return nil, err
	}
	return caPEM, nil
}

// errUnreachable marks failures to reach the server, which are worth
// retrying (it may be starting, or the network not up yet), unlike a CA
// that does not match the token.
var errUnreachable = errors.New("server not reachable")

// fetchCARetrying is FetchCA retried with back-off (1 s doubling to 30 s)
// while the server cannot be reached, until ctx ends.
func fetchCARetrying(ctx context.Context, server string, token Token, log *slog.Logger) ([]byte, error) {
	delay := time.Second
	for {
		caPEM, err := FetchCA(ctx, server, token)
		if err == nil || !errors.Is(err, errUnreachable) {
			return caPEM, err
		}
		log.Warn("cannot reach the server to join; retrying", "server", server, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// checkCA verifies that caPEM is the CA the token names and holds a
// certificate.
func checkCA(caPEM []byte, token Token) error {
	if CAHash(caPEM) != token.CAHash {
		return errors.New("join: the server's CA does not match the token (wrong server, or someone in between)")
	}
	if !x509.NewCertPool().AppendCertsFromPEM(caPEM) {
		return errors.New("join: the server sent no valid CA certificate")
	}
	return nil
}

// BootstrapConfig says which cluster to join as which node.
type BootstrapConfig struct {
	// Server is the API server URL. Required.
	Server string
	// Token is the join token. Required.
	Token Token
	// NodeName is the node's name. Required.
	NodeName string
	// NodeIPs are the node's addresses, added to the serving certificate
	// with the node name, 127.0.0.1 and localhost.
	NodeIPs []string
	// Dir is the agent's directory; certificates go to Dir/pki.
	Dir string
	// ApprovalTimeout bounds the wait for each CSR's approval; zero means
	// certs.DefaultApprovalTimeout.
	ApprovalTimeout time.Duration
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
}

// PKIDir is where Bootstrap keeps the node's certificates under the
// agent directory.
func PKIDir(agentDir string) string { return filepath.Join(agentDir, "pki") }

// Bootstrap joins the node to the cluster: it takes the cluster CA from
// Dir/pki/ca.crt when that still matches the token, else fetches it from
// the server and checks it against the token; then it obtains the node's
// client certificate (a CSR authenticated with the token's bootstrap
// token, unless a stored certificate is still good) and serving
// certificate (a CSR made as the node). The returned Manager holds both;
// run its Run to renew them.
func Bootstrap(ctx context.Context, cfg BootstrapConfig) (*certs.Manager, error) {
	if cfg.Server == "" || cfg.NodeName == "" || cfg.Dir == "" {
		return nil, errors.New("join: Server, NodeName and Dir are required")
	}
	server := strings.TrimSuffix(cfg.Server, "/")
	dir := PKIDir(cfg.Dir)
	caPEM, err := os.ReadFile(filepath.Join(dir, certs.CAFile))
	if err != nil || checkCA(caPEM, cfg.Token) != nil {
		log := cfg.Logger
		if log == nil {
			log = slog.Default()
		}
		if caPEM, err = fetchCARetrying(ctx, server, cfg.Token, log); err != nil {
			return nil, err
		}
	}
	m, err := certs.New(ctx, certs.Config{
		Server: server, CAPEM: caPEM, Dir: dir, NodeName: cfg.NodeName, Hosts: cfg.NodeIPs,
		BootstrapToken: cfg.Token.BootstrapToken(), ApprovalTimeout: cfg.ApprovalTimeout, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	return m, nil
}

func get(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}
