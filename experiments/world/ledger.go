package world

import "github.com/sbmpsim/sbmpsim/sbmp"

import "github.com/sbmpsim/sbmpsim/experiments/stats"

// ledger is the run's books of the objects its workloads allocate through
// SBMP: totals, peaks, the time integral of live objects (for Little's
// law), the latency of every successful allocation, and one account per
// workload. The workload drivers write to their own accounts, which keep
// the totals; the summary and the checker read them.
type ledger struct {
	allocs, frees, failures uint64
	liveObjects, liveBytes  int64
	peakObjects, peakBytes  int64
	liveArea                float64 // integral of live objects over time
	lastNs                  int64
	// lat is the latency of every successful allocation, waits included.
	lat stats.LatencyHist
	// latBuckets is the same latencies in the time series' buckets.
	latBuckets latencyBuckets
	// accounts are the workloads' accounts by workload index; nil for a
	// workload outside SBMP (task, mlock, page-cache, kmalloc-leak).
	accounts []*account
	// probes are the run's [[probe]]s; nil without any.
	probes *probeSet
}

// newLedger returns books for n workloads, none of them open yet.
func newLedger(n int) *ledger { return &ledger{accounts: make([]*account, n)} }

// open opens the account of workload index with its name.
func (l *ledger) open(index int, name string, sloNs int64) *account {
	a := &account{name: name, l: l, sloNs: sloNs, index: index}
	l.accounts[index] = a
	return a
}

// advance moves the time integral of live objects to now.
func (l *ledger) advance(now int64) {
	l.liveArea += float64(float64(l.liveObjects) * float64(now-l.lastNs))
	l.lastNs = now
}

// account is one workload's share of the books.
type account struct {
	name                             string
	l                                *ledger
	allocs, frees, failures, retries uint64
	liveBytes, liveObjects           int64
	bytesAllocated                   int64
	// lostObjects and lostBytes were live when the process died: gone
	// with it, never freed.
	lostObjects, lostBytes int64
	// sloNs is the latency objective of the degrade SLI; sli counts the
	// workload's allocations that met the degrade condition, and byCPU
	// the same by the CPU that asked.
	sloNs int64
	sli   SLICounts
	byCPU []SLICounts
	// index is the workload's index in the scenario.
	index int
}

// observe shows one allocation at its final outcome to the run's probes:
// asked on cpu for size bytes, its result, its latency from the first
// request, and the allocating stack's depth (-1 when not modelled).
func (a *account) observe(now int64, cpu int, size int64, res sbmp.AllocResult, latencyNs int64, depth int32) {
	a.l.probes.observe(now, a.index, cpu, size, res, latencyNs, depth)
}

// degraded counts an allocation that met the degrade condition (SPEC
// 3.3) once its outcome is final: unharmed when it succeeded within the
// workload's latency objective, from its first request to its end.
func (a *account) degraded(cpu int, ok bool, latencyNs int64) {
	if cpu >= len(a.byCPU) {
		a.byCPU = append(a.byCPU, make([]SLICounts, cpu+1-len(a.byCPU))...)
	}
	for _, c := range [2]*SLICounts{&a.sli, &a.byCPU[cpu]} {
		c.Met++
		switch {
		case !ok:
			c.Failed++
		case latencyNs > a.sloNs:
			c.OverSLO++
		default:
			c.Unharmed++
		}
	}
}

// alloc counts one allocation of size bytes at now.
func (a *account) alloc(now, size int64) {
	l := a.l
	l.advance(now)
	a.allocs++
	a.liveObjects++
	a.liveBytes += size
	a.bytesAllocated += size
	l.allocs++
	l.liveObjects++
	l.liveBytes += size
	l.peakObjects = max(l.peakObjects, l.liveObjects)
	l.peakBytes = max(l.peakBytes, l.liveBytes)
}

// free counts one free of size bytes at now.
func (a *account) free(now, size int64) {
	l := a.l
	l.advance(now)
	a.frees++
	a.liveObjects--
	a.liveBytes -= size
	l.frees++
	l.liveObjects--
	l.liveBytes -= size
}

// fail counts an allocation that failed for good.
func (a *account) fail() {
	a.failures++
	a.l.failures++
}

// latency records a successful allocation's latency, waits included.
func (a *account) latency(ns int64) {
	a.l.lat.Record(ns)
	a.l.latBuckets.record(ns)
}

// die drops the workload's live objects: its process died with them.
func (a *account) die(now int64) {
	l := a.l
	l.advance(now)
	l.liveObjects -= a.liveObjects
	l.liveBytes -= a.liveBytes
	a.lostObjects += a.liveObjects
	a.lostBytes += a.liveBytes
	a.liveObjects, a.liveBytes = 0, 0
}

// summary is the account's line in summary.json, without the fields of
// the workload's kind.
func (a *account) summary(kind string) WorkloadSummary {
	return WorkloadSummary{
		Name: a.name, Kind: kind, Allocs: a.allocs, AllocFailures: a.failures, AllocRetries: a.retries, Frees: a.frees,
		BytesAllocated: a.bytesAllocated, BytesLiveEnd: a.liveBytes, ObjectsLiveEnd: a.liveObjects,
		ObjectsLost: a.lostObjects, BytesLost: a.lostBytes,
		DegradeSLI: a.sli.withRate(a.sloNs),
	}
}
