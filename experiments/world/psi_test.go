package world

import (
	"slices"
	"testing"

	"github.com/sbmpsim/sbmpsim/model/goruntime"
)

// TestPressureTotals checks PSI's some and full totals against timelines
// worked out by hand with collect_percpu_times' arithmetic: per CPU, the
// some and full time since the last collection, weighted by the CPU's
// non-idle time in whole jiffies (4 ms at HZ 250). Times are in ms.
func TestPressureTotals(t *testing.T) {
	const ms = 1_000_000
	type member struct {
		cpu    int
		runner bool
	}
	// An event: member e's tick at at (mem, io, total ms; a plain stall
	// when io and total are 0), its death (die), or a read of the
	// totals (e < 0).
	type event struct {
		e                  int
		at, mem, io, total int64
		die                bool
	}
	tests := []struct {
		name           string
		members        []member
		events         []event
		endMs          int64
		someUs, fullUs int64
	}{
		{
			name:    "one thread: full is some",
			members: []member{{0, false}},
			events:  []event{{e: 0, at: 10, mem: 5}, {e: 0, at: 12, mem: 10}, {e: 0, at: 40, mem: 5}},
			// [10,22) and [40,45): 17 ms, all of the CPU's non-idle time.
			endMs: 100, someUs: 17_000, fullUs: 17_000,
		},
		{
			name:    "threads on one CPU are one union",
			members: []member{{0, false}, {0, false}},
			events:  []event{{e: 0, at: 10, mem: 10}, {e: 1, at: 15, mem: 10}, {e: 1, at: 50, mem: 1}},
			endMs:   100, someUs: 16_000, fullUs: 16_000,
		},
		{
			name:    "threads on two CPUs: each CPU weighted by its non-idle jiffies",
			members: []member{{0, false}, {1, false}},
			events:  []event{{e: 0, at: 0, mem: 20}, {e: 1, at: 10, mem: 4}},
			// (20 ms x 5 jiffies + 4 ms x 1) / 6 = 17.333 ms.
			endMs: 100, someUs: 17_333, fullUs: 17_333,
		},
		{
			name:    "a read splits the window",
			members: []member{{0, false}, {1, false}},
			events:  []event{{e: 0, at: 0, mem: 20}, {e: 1, at: 10, mem: 4}, {e: -1, at: 12}},
			// Up to 12: CPU 0 12 ms (3 jiffies), CPU 1 2 ms (0): 12 ms.
			// Then CPU 0 8 ms (2), CPU 1 2 ms (0): 8 ms.
			endMs: 100, someUs: 20_000, fullUs: 20_000,
		},
		{
			name:    "a stall beside a running task on another CPU counts half",
			members: []member{{0, false}, {1, false}},
			events:  []event{{e: 0, at: 0, mem: 20, total: 20}, {e: 1, at: 0, total: 20}},
			endMs:   100, someUs: 10_000, fullUs: 10_000,
		},
		{
			name:    "a running task on the same CPU keeps full at zero until it stalls too",
			members: []member{{0, true}, {0, false}},
			events:  []event{{e: 1, at: 10, mem: 20}, {e: 0, at: 20, mem: 5}, {e: 0, at: 40, mem: 10}},
			// some: [10,30) and [40,50) = 30; full: [20,25) and [40,50).
			endMs: 100, someUs: 30_000, fullUs: 15_000,
		},
		{
			name:    "I/O wait is not running: it does not hold full back",
			members: []member{{0, false}, {0, false}},
			events:  []event{{e: 0, at: 0, mem: 10, io: 10, total: 30}, {e: 1, at: 12, mem: 8}},
			// some and full: [0,10) and [12,20); non-idle [0,30).
			endMs: 100, someUs: 18_000, fullUs: 18_000,
		},
		{
			name:    "less than a jiffy of non-idle time does not count",
			members: []member{{0, false}},
			events:  []event{{e: 0, at: 10, mem: 3}},
			endMs:   100, someUs: 0, fullUs: 0,
		},
		{
			name:    "a stall past the end counts up to the end",
			members: []member{{0, false}},
			events:  []event{{e: 0, at: 90, mem: 50}},
			endMs:   100, someUs: 10_000, fullUs: 10_000,
		},
		{
			name:    "a dead runner no longer holds full back",
			members: []member{{0, true}, {0, false}},
			events:  []event{{e: 1, at: 10, mem: 40}, {e: 0, at: 20, die: true}},
			// non-idle [0,50): 12 jiffies; full from the death to 50.
			endMs: 100, someUs: 40_000, fullUs: 30_000,
		},
		{
			name:    "the periodic collection at PSI_FREQ splits the window",
			members: []member{{0, false}, {1, false}},
			events:  []event{{e: 0, at: 1990, mem: 20}, {e: 1, at: 2000, mem: 2}},
			// Up to 2004: CPU 0 14 ms (3 jiffies), CPU 1 2 ms (0):
			// 14 ms. Then CPU 0 6 ms (1): 6 ms. One window would give
			// (20 x 5 + 2 x 0) / 5 = 20 ms as well; with CPU 1 at 4 ms
			// it differs (next case).
			endMs: 2100, someUs: 20_000, fullUs: 20_000,
		},
		{
			name:    "the periodic collection at PSI_FREQ, uneven",
			members: []member{{0, false}, {1, false}},
			events:  []event{{e: 0, at: 1990, mem: 20}, {e: 1, at: 1999, mem: 6}},
			// Up to 2004: CPU 0 14 ms (3), CPU 1 5 ms (1): 47/4 =
			// 11.75 ms. Then CPU 0 6 ms (1), CPU 1 1 ms (0): 6 ms.
			endMs: 2100, someUs: 17_750, fullUs: 17_750,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPressure(1)
			for _, m := range tt.members {
				p.entity([]int{0}, m.cpu, m.runner)
			}
			evs := slices.Clone(tt.events)
			slices.SortStableFunc(evs, func(a, b event) int { return int(a.at - b.at) })
			for _, e := range evs {
				switch {
				case e.e < 0:
					p.totals(0, e.at*ms)
				case e.die:
					p.die(e.e, e.at*ms)
				case e.total == 0:
					p.stall(e.e, tt.members[e.e].cpu, e.at*ms, e.mem*ms)
				default:
					p.tick(e.e, tt.members[e.e].cpu, e.at*ms, e.mem*ms, e.io*ms, e.total*ms)
				}
			}
			some, full := p.totals(0, tt.endMs*ms)
			if some != tt.someUs || full != tt.fullUs {
				t.Fatalf("some %d us, full %d us; want %d, %d", some, full, tt.someUs, tt.fullUs)
			}
		})
	}
}

// TestPressureMigration: a thread's stall on its new CPU is accounted
// there, and each CPU is weighted by its own non-idle time.
func TestPressureMigration(t *testing.T) {
	const ms = 1_000_000
	p := newPressure(1)
	e := p.entity([]int{0}, 0, false)
	p.stall(e, 0, 0, 20*ms)
	p.stall(e, 1, 50*ms, 20*ms)
	// CPU 0 20 ms (5 jiffies), CPU 1 20 ms (5): 20 ms, not the 40 of
	// their union: collect_percpu_times averages over the CPUs.
	if some, _ := p.totals(0, 100*ms); some != 20_000 {
		t.Fatalf("some %d us, want 20000", some)
	}
	if len(p.groups[0].cpus) != 2 || len(p.groups[0].cpus[0].ents) != 0 || len(p.groups[0].cpus[1].ents) != 1 {
		t.Fatalf("slots after the move: %+v", p.groups[0].cpus)
	}
}

// TestGoCPUs: a Go program's PSI members are on the CPUs goruntime
// resolves for it.
func TestGoCPUs(t *testing.T) {
	tests := []struct {
		cpus  []int
		procs int
		want  []int
	}{
		{[]int{2, 5}, 0, []int{2, 5}},
		{nil, 3, []int{0, 1, 2}},
		{nil, 0, []int{0}},
	}
	for _, tt := range tests {
		got := goCPUs(goruntime.Config{CPUs: tt.cpus, GOMAXPROCS: tt.procs})
		if !slices.Equal(got, tt.want) {
			t.Errorf("goCPUs(CPUs %v, GOMAXPROCS %d) = %v, want %v", tt.cpus, tt.procs, got, tt.want)
		}
	}
}
