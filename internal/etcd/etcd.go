// Package etcd runs Skiff's embedded etcd member, or connects to an external
// etcd cluster, and hands out a client for the object store.
package etcd

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
)

// Config configures the etcd member or the connection to external etcd.
type Config struct {
	// DataDir holds the embedded member's data (<data-dir>/etcd).
	DataDir string
	// Servers, when set, are the client URLs of an external etcd cluster;
	// no member is started.
	Servers []string
	// ClientPort and PeerPort are the embedded member's ports on
	// 127.0.0.1 (default 2379 and 2380).
	ClientPort, PeerPort int
	// StartTimeout bounds how long start-up may take (default 60s).
	StartTimeout time.Duration
}

// Etcd is a running etcd member (or an external cluster's client).
type Etcd struct {
	cfg    Config
	member *embed.Etcd
	client *clientv3.Client
}

// New starts the embedded member, or dials the external cluster, and
// returns once a client can be used.
func New(cfg Config) (*Etcd, error) {
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	if len(cfg.Servers) > 0 {
		c, err := clientv3.New(clientv3.Config{Endpoints: cfg.Servers, DialTimeout: 10 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("connecting to etcd %v: %w", cfg.Servers, err)
		}
		return &Etcd{cfg: cfg, client: c}, nil
	}
	if cfg.ClientPort == 0 {
		cfg.ClientPort = 2379
	}
	if cfg.PeerPort == 0 {
		cfg.PeerPort = 2380
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating etcd data dir: %w", err)
	}
	ec := embed.NewConfig()
	ec.Name = "skiff"
	ec.Dir = cfg.DataDir
	ec.LogLevel = "error"
	ec.Logger = "zap"
	ec.LogOutputs = []string{filepath.Join(cfg.DataDir, "etcd.log")}
	clientURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", cfg.ClientPort)}
	peerURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", cfg.PeerPort)}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{peerURL}, []url.URL{peerURL}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	// A single member elects itself after a randomised election timeout;
	// short ticks keep that wait (most of start-up) under a quarter
	// second. etcd needs the election timeout to be at least 5 ticks.
	ec.TickMs, ec.ElectionMs = 50, 250
	// Keep start-up and memory small: snapshots are cheap at our sizes.
	ec.SnapshotCount = 10000
	ec.QuotaBackendBytes = 8 << 30
	member, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd: %w", err)
	}
	select {
	case <-member.Server.ReadyNotify():
	case err := <-member.Err():
		member.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(cfg.StartTimeout):
		member.Close()
		return nil, errors.New("embedded etcd did not become ready in time")
	}
	// An in-process client avoids gRPC over the loopback for every call.
	return &Etcd{cfg: cfg, member: member, client: v3client.New(member.Server)}, nil
}

// Client returns the etcd client.
func (e *Etcd) Client() *clientv3.Client { return e.client }

// Run waits until ctx ends or the member fails, then stops the member.
func (e *Etcd) Run(ctx context.Context) error {
	if e.member == nil {
		<-ctx.Done()
		return e.client.Close()
	}
	defer e.member.Close()
	select {
	case <-ctx.Done():
		return nil
	case err := <-e.member.Err():
		return fmt.Errorf("embedded etcd: %w", err)
	}
}

// Close stops the member (or closes the external client) immediately.
func (e *Etcd) Close() {
	if e.member != nil {
		e.member.Close()
		return
	}
	e.client.Close()
}
