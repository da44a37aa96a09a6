package sbmp

import "testing"

func TestAlertsThresholds(t *testing.T) {
	f := newFakeEnv(2, 1, 1<<12)
	a := newTestAllocator(t, f, Config{})
	// Empty caches: 0 free slots per CPU is danger.
	got := a.Alerts(Stats{}, Stats{}, 500e6)
	if got[0].Level != AlertDanger || got[1].Level != AlertSafe || got[2].Level != AlertSafe {
		t.Fatalf("idle allocator: %+v", got)
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
