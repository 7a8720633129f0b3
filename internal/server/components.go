package server

import (
	"context"
	"log/slog"

	"github.com/skiff-io/skiff/internal/auth/serviceaccount"
	"github.com/skiff-io/skiff/internal/pki"

	"k8s.io/client-go/rest"
)

// Role says which --disable-* flag turns a component off.
type Role int

const (
	// RoleControllers is turned off by --disable-controllers.
	RoleControllers Role = iota
	// RoleScheduler is turned off by --disable-scheduler.
	RoleScheduler
	// RoleAgent is turned off by --disable-agent.
	RoleAgent
	// RoleDNS is turned off by --disable-dns.
	RoleDNS
	// RoleIngress is turned off by --disable-ingress.
	RoleIngress
)

// Component is a part of Skiff that runs inside `skiff server` as a client
// of the API server (controller manager, scheduler, node agent). The server
// starts it once the API server is ready and stops it on shutdown.
type Component struct {
	Name string
	Role Role
	// LeaderElected components run only while this server holds the
	// kube-system Lease called Name, so that several servers never run
	// them at once.
	LeaderElected bool
	// User and Groups are the identity the component acts as: the server
	// issues it a client certificate for them, and RBAC's default policy
	// grants that user what the component needs and no more. An empty
	// User runs with the server's own (system:masters) credentials.
	User   string
	Groups []string
	// Run blocks until ctx ends; an error stops the server.
	Run func(ctx context.Context, env Env) error
}

// Env is what the server gives a component.
type Env struct {
	// Config reaches the API server with the server's own credentials.
	Config *rest.Config
	// CAPEM is the cluster CA certificate.
	CAPEM []byte
	// PKI is the cluster's certificate authority, for components that
	// issue certificates (the node agent's serving certificate).
	PKI *pki.Bundle
	// DataDir is the server's data directory.
	DataDir string
	// Tokens signs service account tokens (the legacy token controller).
	Tokens *serviceaccount.Issuer
	Logger *slog.Logger
}

// enabled reports whether the configuration lets c run.
func (cfg *Config) enabled(c Component) bool {
	switch c.Role {
	case RoleControllers:
		return !cfg.DisableControllers
	case RoleScheduler:
		return !cfg.DisableScheduler
	case RoleAgent:
		return !cfg.DisableAgent
	case RoleDNS:
		return !cfg.DisableDNS
	case RoleIngress:
		return !cfg.DisableIngress
	}
	return true
}
