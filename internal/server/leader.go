package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// whileLeading runs fn while this server holds the Lease `name` in
// kube-system, so that several servers never run the same component at
// once. The identity is stable across restarts of the same server (host
// and data dir), and the lease is released on shutdown, so a restarted
// server takes over at once instead of waiting for the lease to expire.
func (s *Server) whileLeading(ctx context.Context, lb *loopback, name string, fn func(context.Context) error) error {
	cfg := lb.restConfig()
	cfg.UserAgent = name + "-leader-election"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  leaseMeta(name),
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: s.identity()},
	}
	errc := make(chan error, 1)
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   15 * time.Second,
			RenewDeadline:   10 * time.Second,
			RetryPeriod:     2 * time.Second,
			ReleaseOnCancel: true,
			Name:            name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) {
					s.log.Info("leading", "component", name, "identity", lock.Identity())
					if err := fn(ctx); err != nil && ctx.Err() == nil {
						errc <- err
					}
				},
				OnStoppedLeading: func() { s.log.Info("stopped leading", "component", name) },
			},
		})
		if err != nil {
			return fmt.Errorf("leader election for %s: %w", name, err)
		}
		le.Run(ctx)
		select {
		case err := <-errc:
			return err
		default:
		}
	}
	return nil
}

// identity names this server in leases: hostname plus a hash of its data
// directory, the same after a restart.
func (s *Server) identity() string {
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte(s.cfg.DataDir))
	return host + "_" + hex.EncodeToString(sum[:6])
}

func leaseMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: "kube-system", Name: name}
}
