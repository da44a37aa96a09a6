package sim

import (
	"context"
	"fmt"
	"sync"
)

// Replicate runs fn(0) .. fn(n-1) on up to workers goroutines and returns
// the results in index order. Each call must be independent of the others
// (its own engine, its own seed), so the results are the same for any
// number of workers; only the wall time changes.
//
// If any call fails, Replicate returns the error of the lowest failing
// index, wrapped with that index, whatever order the calls finished in.
// When ctx is cancelled, calls not yet started are skipped and ctx's error
// is returned; calls already running finish first.
func Replicate[T any](ctx context.Context, n, workers int, fn func(i int) (T, error)) ([]T, error) {
	if n < 0 {
		return nil, fmt.Errorf("sim: replicate %d runs", n)
	}
	workers = max(1, min(workers, n))
	out := make([]T, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = fn(i)
			}
		}()
	}
	cancelled := false
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			cancelled = true
			break feed
		}
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("replication %d: %w", i, err)
		}
	}
	if cancelled {
		return nil, ctx.Err()
	}
	return out, nil
}
