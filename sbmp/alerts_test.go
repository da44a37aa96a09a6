package sbmp

import "testing"

func TestAlertsThresholds(t *testing.T) {
	f := newFakeEnv(2, 1, 1<<12)
	a := newTestAllocator(t, f, Config{})
	// No CPU has asked for the class: nothing to say, safe at 0.
	got := a.Alerts(Stats{}, Stats{}, 500e6)
	if got[0].Level != AlertSafe || got[0].Value != 0 || got[1].Level != AlertSafe || got[2].Level != AlertSafe {
		t.Fatalf("idle allocator: %+v", got)
	}
	// CPU 0 allocates one 64 B object: its cache holds the rest of a
	// refill of 64, 63 free; CPU 1 never asked and does not count.
	p0 := a.Alloc(0, 64)
	if got := a.Alerts(Stats{}, Stats{}, 500e6); got[0].Value != 63 || got[0].Level != AlertSafe {
		t.Fatalf("one user with 63 free: %+v", got[0])
	}
	// CPU 1 asks for a 64 B slot once (its cache then holds 63) and frees
	// it; CPU 0 empties its cache: (0 + 64) / 2 = 32 is a warning, not
	// safe (SPEC 1.5: safe above 32).
	p1 := a.Alloc(1, 64)
	if _, err := a.Free(1, p1.Addr, 64); err != nil {
		t.Fatal(err)
	}
	var held []uint64
	for a.Tier0Free(0, 0) > 0 {
		held = append(held, a.Alloc(0, 64).Addr)
	}
	if got := a.Alerts(Stats{}, Stats{}, 500e6); got[0].Value != 32 || got[0].Level != AlertWarning {
		t.Fatalf("two users, 0 and 64 free: %+v", got[0])
	}
	for _, p := range append(held, p0.Addr) {
		if _, err := a.Free(0, p, 64); err != nil {
			t.Fatal(err)
		}
	}
	// Fill both CPUs' caches past 32 free slots: safe.
	for cpu := range 2 {
		var addrs []uint64
		for range 100 {
			addrs = append(addrs, a.Alloc(cpu, 64).Addr)
		}
		for _, p := range addrs {
			if _, err := a.Free(cpu, p, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := a.Alerts(Stats{}, Stats{}, 500e6); got[0].Level != AlertSafe {
		t.Fatalf("full caches: %+v", got[0])
	}
	// 3 fallbacks in 500 ms is 6/s: danger; 2 is 4/s: warning.
	if got := a.Alerts(Stats{}, Stats{Tier2Fallbacks: 3}, 500e6); got[2].Level != AlertDanger || got[2].Value != 6 {
		t.Fatalf("fallbacks: %+v", got[2])
	}
	if got := a.Alerts(Stats{}, Stats{Tier2Fallbacks: 2}, 500e6); got[2].Level != AlertWarning {
		t.Fatalf("fallbacks: %+v", got[2])
	}
	// Merge delays averaging 250 ms in the window: danger.
	cur := Stats{MergeDelayCount: 4, MergeDelaySumNs: 1e9}
	if got := a.Alerts(Stats{}, cur, 500e6); got[1].Level != AlertDanger || got[1].Value != 250 {
		t.Fatalf("merge delay: %+v", got[1])
	}
}

// TestAlertsWindows: the merge-delay and fallback signals are differences
// over the window from prev to cur, and their thresholds are strict
// (SPEC 1.5: danger above 200 ms, above 5 fallbacks a second).
func TestAlertsWindows(t *testing.T) {
	a := newTestAllocator(t, newFakeEnv(2, 1, 1<<12), Config{})
	prev := Stats{MergeDelayCount: 2, MergeDelaySumNs: 3e9, Tier2Fallbacks: 10}
	for _, tc := range []struct {
		name          string
		cur           Stats
		elapsedNs     int64
		delayMs       float64
		delayLevel    AlertLevel
		fallbackPerS  float64
		fallbackLevel AlertLevel
	}{
		{"nothing in the window", prev, 1e9, 0, AlertSafe, 0, AlertSafe},
		{"mean of the window's merges only, at the threshold", Stats{MergeDelayCount: 6, MergeDelaySumNs: 3e9 + 8e8, Tier2Fallbacks: 15}, 1e9, 200, AlertSafe, 5, AlertWarning},
		{"above both thresholds", Stats{MergeDelayCount: 6, MergeDelaySumNs: 3e9 + 1e9, Tier2Fallbacks: 16}, 1e9, 250, AlertDanger, 6, AlertDanger},
		{"a rate over half a second", Stats{MergeDelayCount: 3, MergeDelaySumNs: 3e9 + 1e6, Tier2Fallbacks: 13}, 500e6, 1, AlertSafe, 6, AlertDanger},
		{"an empty window has no rate", Stats{MergeDelayCount: 2, MergeDelaySumNs: 3e9, Tier2Fallbacks: 12}, 0, 0, AlertSafe, 0, AlertSafe},
	} {
		got := a.Alerts(prev, tc.cur, tc.elapsedNs)
		if got[1].Value != tc.delayMs || got[1].Level != tc.delayLevel {
			t.Errorf("%s: merge delay %+v, want %v ms %v", tc.name, got[1], tc.delayMs, tc.delayLevel)
		}
		if got[2].Value != tc.fallbackPerS || got[2].Level != tc.fallbackLevel {
			t.Errorf("%s: fallbacks %+v, want %v/s %v", tc.name, got[2], tc.fallbackPerS, tc.fallbackLevel)
		}
	}
}
