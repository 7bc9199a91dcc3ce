// SPDX-License-Identifier: BSL-1.0
// Peer benchmark: golang.org/x/sync/singleflight on the scenarios of
// bench/SPEC.md, printing one line per scenario in the same format the
// project's own benchmark prints, so the two can be compared in one run.
// Each run measures once; bench/run runs it --repeat times and keeps the
// median. (Copied from the shared peer program so that the benchmark stands
// on its own; the scaling scenario is in scaling/.)
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

func report(name string, calls int, d time.Duration, loaderCalls int64, allocs uint64) {
	threads := runtime.GOMAXPROCS(0)
	if name == "cold" {
		threads = 1
	}
	reportThreads(name, threads, calls, d, loaderCalls, allocs)
}

func reportThreads(name string, threads, calls int, d time.Duration, loaderCalls int64, allocs uint64) {
	fmt.Printf("scenario=%s impl=go-x-sync threads=%d calls=%d ns_per_call=%.1f loader_calls=%d allocs_per_call=%.2f\n",
		name, threads, calls, float64(d.Nanoseconds())/float64(calls), loaderCalls, float64(allocs)/float64(calls))
}

// cold: one caller, every key new, the loader returns at once.
func cold(n int) {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
	}
	var g singleflight.Group
	var loads int64
	fn := func() (interface{}, error) { loads++; return 42, nil }
	runtime.GC()
	a0 := mallocs()
	t0 := time.Now()
	for _, k := range keys {
		if v, _, _ := g.Do(k, fn); v.(int) != 42 {
			panic("bad value")
		}
	}
	d := time.Since(t0)
	report("cold", n, d, loads, mallocs()-a0)
}

// stampede: n tasks start at once on one key; the loader yields once.
func stampede(n, rounds int) {
	var g singleflight.Group
	var loads int64
	fn := func() (interface{}, error) {
		atomic.AddInt64(&loads, 1)
		runtime.Gosched()
		return 42, nil
	}
	runtime.GC()
	a0 := mallocs()
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
	report("stampede", n*rounds, d, loads, mallocs()-a0)
}

// mixed: tasks concurrent tasks, each makes per calls on keys drawn
// uniformly from nkeys keys; the loader yields once.
func mixed(tasks, per, nkeys int) {
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
	}
	plan := make([][]int, tasks)
	rng := rand.New(rand.NewSource(1))
	for t := range plan {
		plan[t] = make([]int, per)
		for i := range plan[t] {
			plan[t][i] = rng.Intn(nkeys)
		}
	}
	var g singleflight.Group
	var loads int64
	fn := func() (interface{}, error) {
		atomic.AddInt64(&loads, 1)
		runtime.Gosched()
		return 42, nil
	}
	runtime.GC()
	a0 := mallocs()
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(tasks)
	for t := 0; t < tasks; t++ {
		go func(p []int) {
			defer wg.Done()
			for _, k := range p {
				if v, _, _ := g.Do(keys[k], fn); v.(int) != 42 {
					panic("bad value")
				}
			}
		}(plan[t])
	}
	wg.Wait()
	d := time.Since(t0)
	report("mixed", tasks*per, d, loads, mallocs()-a0)
}

// lcg runs the parallel scenario's loader work: steps of a 64-bit LCG.
func lcg(x uint64, steps int) uint64 {
	for i := 0; i < steps; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// parallel: tasks concurrent tasks, per calls each on keys drawn uniformly
// from nkeys keys; the loader does steps of CPU work (checked), so loaders of
// different keys can only overlap if they run on different threads.
func parallel(tasks, per, nkeys, steps, procs int) {
	keys := make([]string, nkeys)
	want := make([]uint64, nkeys)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
		want[i] = lcg(uint64(i), steps)
	}
	plan := make([][]int, tasks)
	rng := rand.New(rand.NewSource(1))
	for t := range plan {
		plan[t] = make([]int, per)
		for i := range plan[t] {
			plan[t][i] = rng.Intn(nkeys)
		}
	}
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	var g singleflight.Group
	var loads int64
	runtime.GC()
	a0 := mallocs()
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(tasks)
	for t := 0; t < tasks; t++ {
		go func(p []int) {
			defer wg.Done()
			for _, k := range p {
				k := k
				v, _, _ := g.Do(keys[k], func() (interface{}, error) {
					atomic.AddInt64(&loads, 1)
					if lcg(uint64(k), steps) != want[k] {
						panic("bad work")
					}
					return 42, nil
				})
				if v.(int) != 42 {
					panic("bad value")
				}
			}
		}(plan[t])
	}
	wg.Wait()
	d := time.Since(t0)
	reportThreads("parallel", procs, tasks*per, d, loads, mallocs()-a0)
}

func main() {
	scale := flag.Int("scale", 1, "divide every scenario's size by this (for quick runs)")
	flag.Parse()
	s := *scale
	cold(1000000 / s)
	stampede(10000/s, 100)
	mixed(1000/s, 200, 100)
	for _, procs := range []int{1, 2} {
		parallel(1000/s, 20, 64, 20000, procs)
	}
}
