package kernel

import "testing"

// benchMachine is a one-node 256 MiB machine with the given swap, and
// three tasks: an anonymous eater (100), a page-cache reader (300) and
// init.
func benchMachine(b *testing.B, swappiness int, swapPages int64) *Machine {
	b.Helper()
	m, err := NewMachine(MachineConfig{
		NodePages: []int64{testNodePages}, Zonelists: [][]int{{0}},
		Swappiness: swappiness, SwapPages: swapPages,
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, task := range []Task{{PID: 1, Comm: "init", Unkillable: true}, {PID: 100, Comm: "eater"}, {PID: 300, Comm: "reader"}} {
		if err := m.AddTask(task); err != nil {
			b.Fatal(err)
		}
	}
	return m
}

// BenchmarkPageCacheStream reads 64 new page-cache pages per operation
// into a full machine, so that every operation reclaims page cache.
func BenchmarkPageCacheStream(b *testing.B) {
	m := benchMachine(b, 60, 0)
	if _, _, _, err := m.AllocAnon(100, 0, testNodePages/2); err != nil {
		b.Fatal(err)
	}
	if _, _, _, err := m.AllocFile(300, 0, testNodePages); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if got, _, _, err := m.AllocFile(300, 0, 64); err != nil || got != 64 {
			b.Fatal(got, err)
		}
	}
}

// BenchmarkSwapStream faults in 64 anonymous pages per operation on a
// full machine with swap at swappiness 100, so that reclaim swaps; the
// eater frees everything when swap is three quarters full.
func BenchmarkSwapStream(b *testing.B) {
	const swap = 4 * testNodePages
	m := benchMachine(b, 100, swap)
	if _, _, _, err := m.AllocFile(300, 0, testNodePages/4); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if got, _, oom, err := m.AllocAnon(100, 0, 64); err != nil || got != 64 || oom != nil {
			b.Fatal(got, oom, err)
		}
		if m.SwapUsed() > swap*3/4 {
			tk, _ := m.Task(100)
			if err := m.FreeAnon(100, tk.RSSAnonPages+tk.SwapEntries); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCheckInvariants checks a full 256 MiB machine's books.
func BenchmarkCheckInvariants(b *testing.B) {
	m := benchMachine(b, 60, testNodePages)
	if _, _, _, err := m.AllocAnon(100, 0, testNodePages/2); err != nil {
		b.Fatal(err)
	}
	if _, _, _, err := m.AllocFile(300, 0, testNodePages); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := m.CheckInvariants(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFileThrash reads a hot set a quarter larger than what
// page cache can keep beside the eater, one page per operation, so that
// reads refault (swappiness 0, no swap).
func BenchmarkReadFileThrash(b *testing.B) {
	m := benchMachine(b, 0, 0)
	if _, _, _, err := m.AllocAnon(100, 0, testNodePages/2); err != nil {
		b.Fatal(err)
	}
	const set = testNodePages * 5 / 8
	f, err := m.AddFile(set)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if r, err := m.ReadFile(300, f, int64(i*7919)%set, 0); err != nil || !r.OK {
			b.Fatal(r, err)
		}
	}
}

// BenchmarkTouchAnonSwap sweeps 64 pages per operation over an eater
// larger than memory with swap, so that most touches swap a page in and
// the allocations for them swap others out.
func BenchmarkTouchAnonSwap(b *testing.B) {
	m := benchMachine(b, 60, 2*testNodePages)
	if _, _, _, err := m.AllocAnon(100, 0, testNodePages*3/2); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if r, err := m.TouchAnon(100, 64); err != nil || r.OOM != nil {
			b.Fatal(r, err)
		}
	}
}

// fragmentedMachine is a one-node 256 MiB machine whose task 100 holds
// every other page in one-page mappings, so that no 2 MiB block is free.
// It returns the mappings held.
func fragmentedMachine(b *testing.B) (*Machine, []MappingID) {
	b.Helper()
	m := benchMachine(b, 60, 0)
	var ids []MappingID
	for range testNodePages - testNodePages/32 {
		r, err := m.MapAnon(100, 0, 1, MapOptions{})
		if err != nil || !r.OK {
			b.Fatal(r, err)
		}
		ids = append(ids, r.ID)
	}
	var kept []MappingID
	for i, id := range ids {
		if i%2 == 1 {
			kept = append(kept, id)
		} else if err := m.UnmapAnon(100, id); err != nil {
			b.Fatal(err)
		}
	}
	return m, kept
}

// BenchmarkDirectCompaction faults a 2 MiB region in with a huge page
// (defrag "always", madvised) on a fragmented machine, so that every
// operation compacts a pageblock's worth of pages first; the machine is
// fragmented again, untimed, once 56 regions have been mapped.
func BenchmarkDirectCompaction(b *testing.B) {
	m, _ := fragmentedMachine(b)
	opts := MapOptions{Huge: true, Defrag: THPDefragAlways, Madvised: true}
	var stalls int64
	b.ResetTimer()
	for i := range b.N {
		if i%56 == 55 {
			b.StopTimer()
			stalls += m.VMStat()[CompactStall]
			m, _ = fragmentedMachine(b)
			b.StartTimer()
		}
		r, err := m.MapAnon(100, 0, HugePagePages, opts)
		if err != nil || !r.OK || r.HugePages != 1 {
			b.Fatal(r, err)
		}
	}
	stalls += m.VMStat()[CompactStall]
	b.ReportMetric(float64(stalls)/float64(b.N), "compactions/op")
}

// BenchmarkMapUnmapHuge maps and unmaps a 2 MiB region faulted with a
// huge page on a machine with free 2 MiB blocks: the fault, the split
// into base pages on the LRU, and the free of the whole block.
func BenchmarkMapUnmapHuge(b *testing.B) {
	m := benchMachine(b, 60, 0)
	opts := MapOptions{Huge: true, Defrag: THPDefragMadvise, Madvised: true}
	b.ResetTimer()
	for range b.N {
		r, err := m.MapAnon(100, 0, HugePagePages, opts)
		if err != nil || !r.OK || r.HugePages != 1 {
			b.Fatal(r, err)
		}
		if err := m.UnmapAnon(100, r.ID); err != nil {
			b.Fatal(err)
		}
	}
}
