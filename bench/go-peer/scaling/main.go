// SPDX-License-Identifier: BSL-1.0
// The scaling scenario of the project's benchmark (bench/bench.cpp), for
// golang.org/x/sync/singleflight: rounds of N goroutines that call Do on one
// key at once (the loader yields once, as in the spec's stampede), for N =
// 10, 100, ..., 100k; the cost per caller and the heap per caller. One line
// per GOMAXPROCS (1 and 2) and N, in the benchmark's format.
//
// bytes and allocs are runtime.MemStats TotalAlloc and Mallocs: heap objects
// only, so goroutine stacks (2 KiB or more each, from stack spans) are not
// counted.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

func memStats() (mallocs, bytes uint64) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs, m.TotalAlloc
}

func scaling(procs, n, rounds int) {
	runtime.GOMAXPROCS(procs)
	var g singleflight.Group
	var loads int64
	fn := func() (interface{}, error) {
		atomic.AddInt64(&loads, 1)
		runtime.Gosched()
		return 42, nil
	}
	runtime.GC()
	a0, b0 := memStats()
	t0 := time.Now()
	for r := 0; r < rounds; r++ {
		var wg sync.WaitGroup
		wg.Add(n)
		for i := 0; i < n; i++ {
			go func() {
				defer wg.Done()
				if v, _, _ := g.Do("hot", fn); v.(int) != 42 {
					panic("bad value")
				}
			}()
		}
		wg.Wait()
	}
	d := time.Since(t0)
	a1, b1 := memStats()
	callers := float64(n) * float64(rounds)
	bytes := float64(b1-b0) / callers
	allocs := float64(a1-a0) / callers
	fmt.Printf("scenario=scaling impl=go-x-sync threads=%d callers=%d ns_per_caller=%.1f bytes_per_caller=%.1f "+
		"allocs_per_caller=%.2f heap_bytes_per_caller=%.1f heap_allocs_per_caller=%.2f rounds=%d loader_calls=%d\n",
		procs, n, float64(d.Nanoseconds())/callers, bytes, allocs, bytes, allocs, rounds, loads)
}

func main() {
	scale := flag.Int("scale", 1, "divide every size by this (for quick runs)")
	flag.Parse()
	s := *scale
	maxCallers := 100000 / s
	if maxCallers < 10 {
		maxCallers = 10
	}
	total := 1000000 / s
	if total < 1 {
		total = 1
	}
	procs := runtime.GOMAXPROCS(0)
	for p := 1; p <= 2 && p <= procs; p++ {
		for n := 10; n <= maxCallers; n *= 10 {
			rounds := total / n
			if rounds < 1 {
				rounds = 1
			}
			scaling(p, n, rounds)
		}
	}
	runtime.GOMAXPROCS(procs)
}
