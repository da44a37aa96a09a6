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
