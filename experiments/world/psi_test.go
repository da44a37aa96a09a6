package world

import "testing"

// TestPressureTotals checks PSI's some and full totals against stall
// timelines worked out by hand (microseconds; 1 unit = 1 us here).
func TestPressureTotals(t *testing.T) {
	const us = 1000
	type stall struct {
		e       int
		at, dur int64
	}
	tests := []struct {
		name    string
		runners []bool // per entity: never idle
		stalls  []stall
		dies    map[int]int64 // entity -> time of death
		endUs   int64
		someUs  int64
		fullUs  int64
	}{
		{
			name:    "one thread: full is some",
			runners: []bool{false},
			stalls:  []stall{{0, 10, 5}, {0, 12, 10}, {0, 40, 5}},
			endUs:   100, someUs: 17, fullUs: 17,
		},
		{
			name:    "overlapping threads are one union",
			runners: []bool{false, false},
			stalls:  []stall{{0, 10, 10}, {1, 15, 10}, {1, 50, 1}},
			endUs:   100, someUs: 16, fullUs: 16,
		},
		{
			name:    "a running task keeps full at zero until it stalls too",
			runners: []bool{true, false},
			stalls:  []stall{{1, 10, 20}, {0, 20, 5}, {0, 40, 10}},
			// some: [10,30) and [40,50) = 30; full: only while the
			// runner is stalled, [20,25) and [40,50) = 15.
			endUs: 100, someUs: 30, fullUs: 15,
		},
		{
			name:    "two running tasks: full is their intersection",
			runners: []bool{true, true},
			stalls:  []stall{{0, 0, 30}, {1, 20, 30}},
			endUs:   100, someUs: 50, fullUs: 10,
		},
		{
			name:    "a stall past the end counts up to the end",
			runners: []bool{false},
			stalls:  []stall{{0, 90, 50}},
			endUs:   100, someUs: 10, fullUs: 10,
		},
		{
			name:    "a dead runner no longer holds full back",
			runners: []bool{true, true},
			stalls:  []stall{{1, 10, 40}},
			dies:    map[int]int64{0: 20},
			// full from the death at 20 to the end of the stall at 50.
			endUs: 100, someUs: 40, fullUs: 30,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPressure(1)
			for _, r := range tt.runners {
				p.entity([]int{0}, r)
			}
			type ev struct {
				at int64
				fn func()
			}
			var evs []ev
			for _, s := range tt.stalls {
				evs = append(evs, ev{s.at, func() { p.stall(s.e, s.at*us, s.dur*us) }})
			}
			for e, at := range tt.dies {
				evs = append(evs, ev{at, func() { p.die(e, at*us) }})
			}
			// Run in time order (stalls start at event times).
			for i := range evs {
				for j := i + 1; j < len(evs); j++ {
					if evs[j].at < evs[i].at {
						evs[i], evs[j] = evs[j], evs[i]
					}
				}
			}
			for _, e := range evs {
				e.fn()
			}
			some, full := p.totals(0, tt.endUs*us)
			if some != tt.someUs || full != tt.fullUs {
				t.Fatalf("some %d us, full %d us; want %d, %d", some, full, tt.someUs, tt.fullUs)
			}
		})
	}
}
