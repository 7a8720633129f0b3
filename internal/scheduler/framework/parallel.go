package framework

import (
	"context"
	"sync"
	"sync/atomic"
)

// chunkFor picks a chunk size so each worker takes a few chunks.
func chunkFor(workers, n int) int {
	c := n / (workers * 4)
	if c < 8 {
		c = 8
	}
	return c
}

// Until calls fn(worker, i) for every i in [0, n), on up to workers
// goroutines (worker is in [0, workers)). It stops handing out work once
// ctx is done. With one worker or little work it runs inline.
func Until(ctx context.Context, workers, n int, fn func(worker, i int)) {
	if n == 0 {
		return
	}
	chunk := chunkFor(workers, n)
	if workers <= 1 || n <= chunk {
		for i := 0; i < n; i++ {
			if i%64 == 0 && ctx.Err() != nil {
				return
			}
			fn(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	w := min(workers, (n+chunk-1)/chunk)
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			for ctx.Err() == nil {
				start := int(next.Add(int64(chunk))) - chunk
				if start >= n {
					return
				}
				end := min(start+chunk, n)
				for i := start; i < end; i++ {
					fn(worker, i)
				}
			}
		}(k)
	}
	wg.Wait()
}
