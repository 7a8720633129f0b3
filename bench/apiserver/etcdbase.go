package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"github.com/skiff-io/skiff/bench/internal/skiffproc"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
)

// EtcdBaseline is the raw etcd reference measured in the same run.
type EtcdBaseline struct {
	Put       LoadResult
	Range     Summary // full range read of every key (linearizable)
	RangeKeys int
	ValueSize int
}

// runEtcdBaseline starts a standalone embedded etcd member on a temporary
// directory in this process, configured like Skiff's own member and reached
// through the same in-process client Skiff uses, and measures raw Put
// throughput with `clients` concurrent writers of valueSize-byte values and
// the time to range-read all n keys.
func runEtcdBaseline(ctx context.Context, n, clients, valueSize, rangeRuns int) (*EtcdBaseline, error) {
	dir, err := os.MkdirTemp("", "skiff-bench-etcd-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ports, err := skiffproc.FreePorts(2)
	if err != nil {
		return nil, err
	}
	ec := embed.NewConfig()
	ec.Name = "bench"
	ec.Dir = filepath.Join(dir, "data")
	ec.LogLevel = "error"
	ec.Logger = "zap"
	ec.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	clientURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[0])}
	peerURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{peerURL}, []url.URL{peerURL}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.SnapshotCount = 10000
	ec.QuotaBackendBytes = 8 << 30
	member, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("starting etcd: %w", err)
	}
	defer member.Close()
	select {
	case <-member.Server.ReadyNotify():
	case err := <-member.Err():
		return nil, fmt.Errorf("etcd: %w", err)
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("etcd not ready after 60s")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	cli := v3client.New(member.Server)
	defer cli.Close()

	value := make([]byte, valueSize)
	if _, err := rand.Read(value); err != nil {
		return nil, err
	}
	// Warm up with a few keys outside the measured prefix.
	for i := range 16 {
		if _, err := cli.Put(ctx, fmt.Sprintf("/warmup/%d", i), string(value)); err != nil {
			return nil, fmt.Errorf("etcd warm-up put: %w", err)
		}
	}
	put := runConcurrent(ctx, n, clients, func(ctx context.Context, i int) error {
		_, err := cli.Put(ctx, fmt.Sprintf("/bench/key-%06d", i), string(value))
		return err
	})
	if put.Errors > 0 {
		return nil, fmt.Errorf("etcd puts: %d of %d failed, first: %v", put.Errors, n, put.FirstErr)
	}
	var ranges []time.Duration
	for run := range rangeRuns + 1 {
		start := time.Now()
		resp, err := cli.Get(ctx, "/bench/", clientv3.WithPrefix())
		d := time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("etcd range: %w", err)
		}
		if len(resp.Kvs) != n {
			return nil, fmt.Errorf("etcd range returned %d keys, want %d", len(resp.Kvs), n)
		}
		if run > 0 { // the first run is a warm-up
			ranges = append(ranges, d)
		}
	}
	return &EtcdBaseline{Put: put, Range: Summarize(ranges), RangeKeys: n, ValueSize: valueSize}, nil
}

// LoadResult is the outcome of n operations run by concurrent workers.
type LoadResult struct {
	N        int
	Clients  int
	Errors   int
	FirstErr error
	Wall     time.Duration // first start to last finish
	Latency  Summary       // of successful operations
}

// PerSecond is the successful operations per wall-clock second.
func (r LoadResult) PerSecond() float64 { return Rate(r.N-r.Errors, r.Wall) }

// runConcurrent runs op for i in [0,n) on `clients` goroutines, each taking
// the next index when it is free, and times every call.
func runConcurrent(ctx context.Context, n, clients int, op func(context.Context, int) error) LoadResult {
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	var next atomic.Int64
	var errs atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				err := op(ctx, i)
				lat[i] = time.Since(t)
				if err != nil {
					errs.Add(1)
					once.Do(func() { firstErr = err })
					continue
				}
				ok[i] = true
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	good := make([]time.Duration, 0, n)
	for i, d := range lat {
		if ok[i] {
			good = append(good, d)
		}
	}
	r := LoadResult{N: n, Clients: clients, Errors: n - len(good), FirstErr: firstErr, Wall: wall, Latency: Summarize(good)}
	if r.Errors > 0 && r.FirstErr == nil {
		r.FirstErr = ctx.Err()
	}
	return r
}
