package kernel

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// newTestCgroups builds a controller with the given cgroups, created in
// order, and fails the test on any error.
func newTestCgroups(t testing.TB, nrCPUs int, groups ...struct {
	path   string
	limits CgroupLimits
}) *Cgroups {
	t.Helper()
	c, err := NewCgroups(nrCPUs)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if err := c.Create(g.path, g.limits); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

type cg = struct {
	path   string
	limits CgroupLimits
}

// memcgFataler is what the helpers need of *testing.T and *rapid.T.
type memcgFataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func mustGet(t memcgFataler, c *Cgroups, path string) Cgroup {
	t.Helper()
	g, ok := c.Get(path)
	if !ok {
		t.Fatalf("no cgroup %s", path)
	}
	return g
}

func mustInvariants(t memcgFataler, c *Cgroups) {
	t.Helper()
	if err := c.CheckInvariants(); err != nil {
		t.Fatalf("%v", err)
	}
}

func TestParentCgroupPath(t *testing.T) {
	for _, tc := range []struct {
		path, parent string
		ok           bool
	}{
		{"/", "", true},
		{"/app", "/", true},
		{"/app/worker", "/app", true},
		{"/a/b/c", "/a/b", true},
		{"", "", false},
		{"app", "", false},
		{"/app/", "", false},
		{"//app", "", false},
		{"/a//b", "", false},
		{"/a/./b", "", false},
		{"/a/..", "", false},
	} {
		parent, err := ParentCgroupPath(tc.path)
		if (err == nil) != tc.ok || parent != tc.parent {
			t.Errorf("ParentCgroupPath(%q) = %q, %v; want %q, ok %v", tc.path, parent, err, tc.parent, tc.ok)
		}
	}
}

func TestCreate(t *testing.T) {
	c := newTestCgroups(t, 1, cg{"/app", CgroupLimits{MaxPages: 100}})
	for _, tc := range []struct {
		path string
		want error
	}{
		{"/app", ErrCgroupExists},
		{"/", ErrCgroupExists},
		{"/nope/child", ErrNoCgroup},
		{"/app/", ErrBadCgroupPath},
	} {
		if err := c.Create(tc.path, CgroupLimits{}); !errors.Is(err, tc.want) {
			t.Errorf("Create(%q) = %v, want %v", tc.path, err, tc.want)
		}
	}
	if err := c.Create("/neg", CgroupLimits{HighPages: -1}); !errors.Is(err, ErrBadPages) {
		t.Errorf("negative limit: %v", err)
	}
	if err := c.Create("/app/worker", CgroupLimits{SwapMaxPages: PageCounterMax + 5}); err != nil {
		t.Fatal(err)
	}
	w := mustGet(t, c, "/app/worker")
	if w.Parent != "/app" || w.MaxPages != PageCounterMax || w.SwapMaxPages != PageCounterMax {
		t.Errorf("worker = %+v: want parent /app and no limits", w)
	}
	if got := fmt.Sprint(c.Paths()); got != "[/ /app /app/worker]" {
		t.Errorf("Paths = %s", got)
	}
}

// TestTryChargeHierarchy follows page_counter_try_charge: a charge counts
// against every ancestor, all or nothing, and reports the innermost
// cgroup whose memory.max it would exceed.
func TestTryChargeHierarchy(t *testing.T) {
	c := newTestCgroups(t, 1,
		cg{"/a", CgroupLimits{MaxPages: 100}},
		cg{"/a/b", CgroupLimits{MaxPages: 50}},
		cg{"/a/c", CgroupLimits{}},
		cg{"/d", CgroupLimits{}})
	steps := []struct {
		path  string
		pages int64
		ok    bool
		over  string
	}{
		{"/a/b", 40, true, ""},
		{"/a/b", 20, false, "/a/b"}, // b: 60 > 50
		{"/a/c", 70, false, "/a"},   // a: 110 > 100
		{"/a/c", 60, true, ""},      // a: 100, exactly the limit
		{"/a/b", 10, false, "/a"},   // b fits (50), its parent does not
		{"/d", 1 << 40, true, ""},   // no limit anywhere
		{"/", 7, true, ""},          // the root has no limit
	}
	for _, s := range steps {
		before := snapshotCurrents(c)
		ok, over, err := c.TryCharge(s.path, s.pages)
		if err != nil || ok != s.ok || over != s.over {
			t.Fatalf("TryCharge(%s, %d) = %v, %q, %v; want %v, %q", s.path, s.pages, ok, over, err, s.ok, s.over)
		}
		if !ok && fmt.Sprint(before) != fmt.Sprint(snapshotCurrents(c)) {
			t.Fatalf("failed TryCharge(%s, %d) changed counters", s.path, s.pages)
		}
		mustInvariants(t, c)
	}
	for path, want := range map[string][2]int64{ // current, local
		"/": {100 + 1<<40 + 7, 7}, "/a": {100, 0}, "/a/b": {40, 40}, "/a/c": {60, 60}, "/d": {1 << 40, 1 << 40},
	} {
		if g := mustGet(t, c, path); g.CurrentPages != want[0] || g.LocalPages != want[1] {
			t.Errorf("%s: current %d local %d, want %v", path, g.CurrentPages, g.LocalPages, want)
		}
	}
	// page_counter_try_charge raises no event; that is try_charge_memcg's.
	if g := mustGet(t, c, "/a"); g.Events != (MemcgEvents{}) {
		t.Errorf("/a events %v after bare TryCharge", g.Events)
	}
	if g := mustGet(t, c, "/a"); g.PeakPages != 100 {
		t.Errorf("/a peak %d, want 100", g.PeakPages)
	}
}

func snapshotCurrents(c *Cgroups) []int64 {
	var out []int64
	for _, p := range c.Paths() {
		g, _ := c.Get(p)
		out = append(out, g.CurrentPages, g.LocalPages, g.StockPages)
	}
	return out
}

func TestUnchargeErrors(t *testing.T) {
	c := newTestCgroups(t, 1, cg{"/a", CgroupLimits{}}, cg{"/a/b", CgroupLimits{}})
	if ok, _, err := c.TryCharge("/a/b", 10); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, _, err := c.TryChargeSwap("/a/b", 3); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		op   func() error
		want error
	}{
		{"more than charged", func() error { return c.Uncharge("/a/b", 11) }, ErrCounterUnderflow},
		{"parent's own charge is zero", func() error { return c.Uncharge("/a", 1) }, ErrCounterUnderflow},
		{"zero pages", func() error { return c.Uncharge("/a/b", 0) }, ErrBadPages},
		{"negative pages", func() error { return c.Uncharge("/a/b", -5) }, ErrBadPages},
		{"unknown cgroup", func() error { return c.Uncharge("/x", 1) }, ErrNoCgroup},
		{"swap more than charged", func() error { return c.UnchargeSwap("/a/b", 4) }, ErrCounterUnderflow},
		{"stat below zero", func() error { return c.ModStat("/a/b", MemcgStatAnon, -1) }, ErrCounterUnderflow},
	} {
		err := tc.op()
		var ce *CgroupError
		if !errors.Is(err, tc.want) || !errors.As(err, &ce) {
			t.Errorf("%s: %v, want %v in a *CgroupError", tc.name, err, tc.want)
		}
	}
	if b := mustGet(t, c, "/a/b"); b.CurrentPages != 10 || b.SwapCurrentPages != 3 {
		t.Errorf("failed uncharges changed counters: %+v", b)
	}
	if err := c.Uncharge("/a/b", 10); err != nil {
		t.Fatal(err)
	}
	if err := c.UnchargeSwap("/a/b", 3); err != nil {
		t.Fatal(err)
	}
	if a := mustGet(t, c, "/a"); a.CurrentPages != 0 || a.SwapCurrentPages != 0 || a.PeakPages != 10 {
		t.Errorf("after uncharging all: %+v", a)
	}
	mustInvariants(t, c)
}

// fullCgroup returns a controller where /a (memory.max max) is full, with
// a child /a/b holding the charge.
func fullCgroup(t *testing.T, max int64) *Cgroups {
	c := newTestCgroups(t, 2, cg{"/a", CgroupLimits{MaxPages: max}}, cg{"/a/b", CgroupLimits{}})
	if ok, _, err := c.TryCharge("/a/b", max); !ok || err != nil {
		t.Fatal(ok, err)
	}
	return c
}

// freeFrom returns a reclaimer that uncharges up to perRound pages a call
// from path, as the owner of its pages would.
func freeFrom(t *testing.T, c *Cgroups, path string, perRound int64, calls *[]MemcgReclaim) MemcgReclaimer {
	return func(r MemcgReclaim) int64 {
		if calls != nil {
			*calls = append(*calls, r)
		}
		n := min(perRound, r.NrToReclaimPages, mustGet(t, c, path).LocalPages)
		if n > 0 {
			if err := c.Uncharge(path, n); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
}

// TestChargeDecision pins try_charge_memcg's loop: how many reclaim
// rounds and max events each kind of charge costs before it succeeds,
// fails, is forced or asks for the OOM killer.
func TestChargeDecision(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pages    int64
		opts     ChargeOptions
		perRound int64 // pages each reclaim call frees; 0 = nothing
		want     ChargeResult
		maxEv    int64 // max events on /a
		oomEv    int64
	}{
		// No progress: the first failure, the retry after draining the
		// stocks, then 16 retries: 18 rounds, then the OOM killer.
		{"one page, nothing reclaimable", 1, ChargeOptions{}, 0,
			ChargeResult{Over: "/a", ReclaimRounds: 18, InvokeOOM: true}, 18, 1},
		// Reclaim frees a page: the margin fits and the retry charges.
		{"one page, reclaim frees one", 1, ChargeOptions{}, 1,
			ChargeResult{Charged: true, Over: "/a", ReclaimRounds: 1, ReclaimedPages: 1}, 1, 0},
		// 20 pages, 8 freed a round: margin 8 < 20, drain retry (16),
		// then 24 >= 20 fits after the third round.
		{"twenty pages, eight a round", 20, ChargeOptions{}, 8,
			ChargeResult{Charged: true, Over: "/a", ReclaimRounds: 3, ReclaimedPages: 24}, 3, 0},
		// Order 4 (16 pages) is above PAGE_ALLOC_COSTLY_ORDER: the same
		// 18 rounds, then failure without an oom event.
		{"costly charge fails without OOM", 16, ChargeOptions{}, 0,
			ChargeResult{Over: "/a", ReclaimRounds: 18}, 18, 0},
		{"__GFP_NORETRY", 1, ChargeOptions{NoRetry: true}, 0,
			ChargeResult{Over: "/a", ReclaimRounds: 2}, 2, 0},
		{"__GFP_RETRY_MAYFAIL", 1, ChargeOptions{RetryMayFail: true}, 0,
			ChargeResult{Over: "/a", ReclaimRounds: 18}, 18, 0},
		{"GFP_NOWAIT fails at once", 1, ChargeOptions{NoBlock: true}, 0,
			ChargeResult{Over: "/a"}, 0, 0},
		// GFP_ATOMIC = no blocking + __GFP_HIGH: forced past the limit,
		// still counting one max event.
		{"GFP_ATOMIC is forced", 1, ChargeOptions{NoBlock: true, High: true}, 0,
			ChargeResult{Charged: true, Forced: true, Over: "/a"}, 1, 0},
		{"PF_MEMALLOC is forced", 3, ChargeOptions{MemAlloc: true}, 0,
			ChargeResult{Charged: true, Forced: true, Over: "/a"}, 1, 0},
		{"__GFP_NOFAIL after reclaim fails", 16, ChargeOptions{NoFail: true}, 0,
			ChargeResult{Charged: true, Forced: true, Over: "/a", ReclaimRounds: 18}, 18, 0},
		// Back from the OOM killer with no memory freed yet: the stocks
		// are already drained, so one round fewer.
		{"retry after OOM", 1, ChargeOptions{PassedOOM: true}, 0,
			ChargeResult{Over: "/a", ReclaimRounds: 17, InvokeOOM: true}, 17, 1},
		{"dying task after OOM gives up", 1, ChargeOptions{PassedOOM: true, Dying: true}, 0,
			ChargeResult{Over: "/a", ReclaimRounds: 17}, 17, 0},
		{"reaped OOM victim fails fast", 1, ChargeOptions{OOMVictimSkip: true}, 0,
			ChargeResult{Over: "/a"}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fullCgroup(t, 100)
			var calls []MemcgReclaim
			res, err := c.Charge("/a/b", tc.pages, tc.opts, freeFrom(t, c, "/a/b", tc.perRound, &calls))
			if err != nil {
				t.Fatal(err)
			}
			if res != tc.want {
				t.Errorf("Charge = %+v\nwant     %+v", res, tc.want)
			}
			a, b := mustGet(t, c, "/a"), mustGet(t, c, "/a/b")
			if a.EventsLocal[MemcgMax] != tc.maxEv || a.EventsLocal[MemcgOOM] != tc.oomEv {
				t.Errorf("/a events.local max %d oom %d, want %d %d", a.EventsLocal[MemcgMax], a.EventsLocal[MemcgOOM], tc.maxEv, tc.oomEv)
			}
			// Events belong to mem_over_limit and its ancestors, not to
			// the charging child.
			if b.Events != (MemcgEvents{}) {
				t.Errorf("/a/b events %v", b.Events)
			}
			if root := mustGet(t, c, "/"); root.Events != (MemcgEvents{}) {
				t.Errorf("root events %v: propagation stops below the root", root.Events)
			}
			for _, r := range calls {
				if r.Cgroup != "/a" || r.NrToReclaimPages != max(tc.pages, 32) || !r.MaySwap || r.Reason != ReclaimForMax {
					t.Errorf("reclaim request %+v", r)
				}
			}
			if want := 100 - tc.want.ReclaimedPages; tc.want.Charged && !tc.want.Forced && a.CurrentPages != want+tc.pages {
				t.Errorf("/a current %d, want %d", a.CurrentPages, want+tc.pages)
			}
			if tc.want.Forced && a.CurrentPages != 100+tc.pages {
				t.Errorf("forced: /a current %d, want %d", a.CurrentPages, 100+tc.pages)
			}
			mustInvariants(t, c)
		})
	}
}

// TestChargeStock covers consume_stock / refill_stock / drain_all_stock:
// a charge takes a batch of 64 and keeps the rest for the next charges on
// that CPU; a stock for another cgroup is drained on refill; a limit
// failure drains every CPU's stock under mem_over_limit before retrying.
func TestChargeStock(t *testing.T) {
	c := newTestCgroups(t, 2, cg{"/a", CgroupLimits{MaxPages: 100}}, cg{"/b", CgroupLimits{}}, cg{"/c", CgroupLimits{}})
	charge := func(path string, pages int64, cpu int) ChargeResult {
		t.Helper()
		res, err := c.Charge(path, pages, ChargeOptions{CPU: cpu}, nil)
		if err != nil || !res.Charged {
			t.Fatalf("Charge(%s, %d, cpu %d) = %+v, %v", path, pages, cpu, res, err)
		}
		mustInvariants(t, c)
		return res
	}
	charge("/a", 1, 0)
	if a := mustGet(t, c, "/a"); a.CurrentPages != 64 || a.LocalPages != 1 || a.StockPages != 63 {
		t.Fatalf("after one page: %+v", a)
	}
	if res := charge("/a", 10, 0); !res.FromStock {
		t.Errorf("second charge did not come from the stock: %+v", res)
	}
	if a := mustGet(t, c, "/a"); a.CurrentPages != 64 || a.StockPages != 53 {
		t.Errorf("after stock charge: %+v", a)
	}
	// CPU 1, 40 pages: the batch of 64 would make 128 > 100, so it
	// charges exactly 40: 104 > 100 fails too. Reclaim frees nothing, the
	// margin stays short, the stocks under /a are drained (53 pages) and
	// the retry fits: 11 + 40 = 51.
	res := charge("/a", 40, 1)
	if res.ReclaimRounds != 1 || res.Over != "/a" || res.FromStock {
		t.Errorf("charge needing a drain: %+v", res)
	}
	if a := mustGet(t, c, "/a"); a.CurrentPages != 51 || a.StockPages != 0 || a.EventsLocal[MemcgMax] != 1 {
		t.Errorf("after drain: %+v", a)
	}
	// A charge for /b on CPU 1 caches /b. A charge for /a there fits
	// only without a batch (51 + 64 > 100), so no refill: /b's stock
	// stays. A charge for /c refills the stock, draining /b's.
	charge("/b", 1, 1)
	if b := mustGet(t, c, "/b"); b.StockPages != 63 {
		t.Errorf("/b stock %d", b.StockPages)
	}
	charge("/a", 1, 1)
	if b := mustGet(t, c, "/b"); b.StockPages != 63 {
		t.Errorf("an exact charge for /a touched /b's stock: %+v", b)
	}
	charge("/c", 1, 1)
	if b, cc := mustGet(t, c, "/b"), mustGet(t, c, "/c"); b.StockPages != 0 || b.CurrentPages != 1 || cc.StockPages != 63 {
		t.Errorf("refill for /c did not drain /b: %+v, /c %+v", b, cc)
	}
	// A charge bigger than a batch never uses the stock and leaves none.
	if res := charge("/b", 200, 0); res.FromStock || mustGet(t, c, "/b").StockPages != 0 {
		t.Errorf("big charge: %+v, /b %+v", res, mustGet(t, c, "/b"))
	}
	if err := c.DrainAllStock("/"); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Paths() {
		if g := mustGet(t, c, p); g.StockPages != 0 || g.CurrentPages != g.LocalPages+childCurrent(c, p) {
			t.Errorf("after DrainAllStock(/): %+v", g)
		}
	}
	if _, err := c.Charge("/a", 1, ChargeOptions{CPU: 2}, nil); !errors.Is(err, ErrBadCPU) {
		t.Errorf("CPU 2 of 2: %v", err)
	}
}

func childCurrent(c *Cgroups, path string) int64 {
	n := int64(0)
	for _, p := range c.Paths() {
		if g, _ := c.Get(p); g.Parent == path {
			n += g.CurrentPages
		}
	}
	return n
}

func TestChargeOverHigh(t *testing.T) {
	c := newTestCgroups(t, 1, cg{"/a", CgroupLimits{HighPages: 100}}, cg{"/a/b", CgroupLimits{}})
	res, err := c.Charge("/a/b", 1, ChargeOptions{}, nil)
	if err != nil || !res.Charged || res.OverHighPages != 0 {
		t.Fatalf("under high: %+v %v", res, err)
	}
	if ok, _, _ := c.TryCharge("/a/b", 50); !ok {
		t.Fatal("TryCharge")
	}
	// 64 + 50 = 114 > 100: the charge succeeds (memory.high never fails
	// a charge) and the task owes the batch it charged. The stock
	// already covers a second page; only page counter charges look at
	// memory.high.
	if res, _ := c.Charge("/a/b", 100, ChargeOptions{}, nil); !res.Charged || res.OverHighPages != 100 {
		t.Errorf("over high: %+v", res)
	}
	if res, _ := c.Charge("/a/b", 1, ChargeOptions{}, nil); !res.FromStock || res.OverHighPages != 0 {
		t.Errorf("from stock: %+v", res)
	}
	// Swap above memory.swap.high also makes the task pay.
	c2 := newTestCgroups(t, 1, cg{"/s", CgroupLimits{SwapHighPages: 10}})
	if ok, _, _ := c2.TryChargeSwap("/s", 11); !ok {
		t.Fatal("TryChargeSwap")
	}
	if res, _ := c2.Charge("/s", 1, ChargeOptions{}, nil); res.OverHighPages != 64 {
		t.Errorf("swap over high: %+v", res)
	}
}

// TestCalculateHighDelay checks calculate_high_delay against the table in
// its comment in mm/memcontrol.c (memory.high 100 MiB, a nominal charge
// of MEMCG_CHARGE_BATCH pages, HZ 1000, so jiffies are milliseconds),
// capped at MEMCG_MAX_HIGH_DELAY_JIFFIES as mem_cgroup_handle_over_high
// does. Two rows by hand:
//
//	101 MiB: usage 25856, high 25600 pages; overage = 256<<20 / 25600
//	         = 268435456 / 25600 = 10485 (10485.76 truncated);
//	         10485^2 * 1000 = 109935225000; >> 34 = 6 (6.399).
//	104 MiB: overage = 1024<<20 / 25600 = 41943 (41943.04);
//	         41943^2 * 1000 = 1759215249000; >> 34 = 102 (102.4).
func TestCalculateHighDelay(t *testing.T) {
	const high = 100 << 20 / PageSize
	wantMs := []int64{0, 6, 25, 57, 102, 159, 230, 313, 409, 518, 639,
		774, 921, 1081, 1254, 1439, 1638, 1849, 2000, 2000, 2000}
	for i, want := range wantMs {
		usage := int64(100+i) << 20 / PageSize
		got := int64(min(CalculateHighDelay(MemcgChargeBatch, CalculateOverage(usage, high)), MemcgMaxHighDelayJiffies))
		if got != want {
			t.Errorf("usage %d MiB: %d jiffies, want %d", 100+i, got, want)
		}
	}
	for _, tc := range []struct {
		name        string
		usage, high int64
		nrPages     int64
		wantOverage uint64
		wantJiffies uint64
	}{
		{"at high", 100, 100, 64, 0, 0},
		{"below high", 99, 100, 64, 0, 0},
		// Twice the limit: overage 1<<20; 2^40 * 1000 >> 34 = 64000.
		{"double", 200, 100, 64, 1 << 20, 64000},
		// The same for a task that charged 16 pages: a quarter.
		{"double, 16 pages", 200, 100, 16, 1 << 20, 16000},
		// memory.high 0 acts as 1 page: overage (5-1)<<20 / 1.
		// memory.high 0 acts as 1 page: overage (5-1)<<20 / 1 = 2^22;
		// 2^44 * 1000 >> 34 = 1024000 (the caller caps it at 2000).
		{"high zero", 5, 0, 64, 4 << 20, 1024000},
		// 117 MiB with a single page charged: 1849 * 1 / 64 = 28.
		{"one page at 117 MiB", 117 << 8, 100 << 8, 1, 178257, 28},
	} {
		ov := CalculateOverage(tc.usage, tc.high)
		if ov != tc.wantOverage {
			t.Errorf("%s: overage %d, want %d", tc.name, ov, tc.wantOverage)
			continue
		}
		if got := CalculateHighDelay(tc.nrPages, ov); got != tc.wantJiffies {
			t.Errorf("%s: %d jiffies, want %d", tc.name, got, tc.wantJiffies)
		}
	}
}

// TestHandleOverHigh pins mem_cgroup_handle_over_high's loop.
func TestHandleOverHigh(t *testing.T) {
	const high = 25600 // 100 MiB
	setup := func(t *testing.T, usage int64, parentHigh int64) *Cgroups {
		c := newTestCgroups(t, 1, cg{"/p", CgroupLimits{HighPages: parentHigh}}, cg{"/p/a", CgroupLimits{HighPages: high}})
		if ok, _, _ := c.TryCharge("/p/a", usage); !ok {
			t.Fatal("TryCharge")
		}
		return c
	}
	t.Run("reclaim fails: 17 rounds then a 102 ms sleep", func(t *testing.T) {
		c := setup(t, 104<<8, 0)
		var calls []MemcgReclaim
		res, err := c.HandleOverHigh("/p/a", 64, HighOptions{}, freeFrom(t, c, "/p/a", 0, &calls))
		if err != nil {
			t.Fatal(err)
		}
		want := HighResult{ReclaimRounds: 17, PenaltyJiffies: 102, StallNs: 102_000_000}
		if res != want {
			t.Errorf("got %+v, want %+v", res, want)
		}
		if a := mustGet(t, c, "/p/a"); a.EventsLocal[MemcgHigh] != 17 || a.Events[MemcgHigh] != 17 {
			t.Errorf("/p/a high events %v", a.EventsLocal)
		}
		if p := mustGet(t, c, "/p"); p.Events[MemcgHigh] != 17 || p.EventsLocal[MemcgHigh] != 0 {
			t.Errorf("/p events %v local %v", p.Events, p.EventsLocal)
		}
		if calls[0].NrToReclaimPages != 64 || calls[1].NrToReclaimPages != 32 || calls[0].Reason != ReclaimForHigh {
			t.Errorf("first reclaim %+v, second %+v: want the charged pages, then SWAP_CLUSTER_MAX", calls[0], calls[1])
		}
		mustInvariants(t, c)
	})
	t.Run("small overage is not worth a sleep", func(t *testing.T) {
		c := setup(t, 101<<8, 0)
		res, _ := c.HandleOverHigh("/p/a", 64, HighOptions{}, nil)
		// reclaim_high runs once before the penalty is known.
		if want := (HighResult{ReclaimRounds: 1, PenaltyJiffies: 6}); res != want {
			t.Errorf("got %+v, want %+v", res, want)
		}
	})
	t.Run("parent over high too: two reclaims a round, worst overage counts", func(t *testing.T) {
		// /p high 20000: its overage (26624-20000)<<20/20000 = 347288
		// exceeds the child's; the penalty is over 2 s, so capped.
		c := setup(t, 104<<8, 20000)
		res, _ := c.HandleOverHigh("/p/a", 64, HighOptions{}, nil)
		if want := (HighResult{ReclaimRounds: 34, PenaltyJiffies: 2000, StallNs: 2_000_000_000}); res != want {
			t.Errorf("got %+v, want %+v", res, want)
		}
		if p := mustGet(t, c, "/p"); p.EventsLocal[MemcgHigh] != 17 || p.Events[MemcgHigh] != 34 {
			t.Errorf("/p high events local %d hierarchical %d", p.EventsLocal[MemcgHigh], p.Events[MemcgHigh])
		}
	})
	t.Run("reclaim progress: no sleep", func(t *testing.T) {
		c := setup(t, 104<<8, 0)
		res, _ := c.HandleOverHigh("/p/a", 64, HighOptions{}, freeFrom(t, c, "/p/a", 1<<20, nil))
		// 64 pages the first round, then SWAP_CLUSTER_MAX (32) a round
		// while reclaim makes progress, until the penalty is 10 jiffies
		// or less; then no sleep.
		if res.StallNs != 0 || res.PenaltyJiffies > 10 || res.ReclaimedPages == 0 {
			t.Errorf("got %+v", res)
		}
		a := mustGet(t, c, "/p/a")
		if got := CalculateHighDelay(64, CalculateOverage(a.CurrentPages, high)); got > 10 {
			t.Errorf("stopped at usage %d with penalty %d", a.CurrentPages, got)
		}
		if res.ReclaimedPages != 104<<8-a.CurrentPages || res.ReclaimedPages != 64+32*int64(res.ReclaimRounds-1) {
			t.Errorf("reclaimed %d in %d rounds, usage now %d", res.ReclaimedPages, res.ReclaimRounds, a.CurrentPages)
		}
		mustInvariants(t, c)
	})
	t.Run("swap over swap.high adds its own penalty", func(t *testing.T) {
		c := setup(t, 104<<8, 0)
		if err := c.SetSwapHigh("/p/a", 1000); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := c.TryChargeSwap("/p/a", 1040); !ok { // 4% over: 102 jiffies as well
			t.Fatal("TryChargeSwap")
		}
		res, _ := c.HandleOverHigh("/p/a", 64, HighOptions{}, nil)
		if want := (HighResult{ReclaimRounds: 17, PenaltyJiffies: 204, StallNs: 204_000_000}); res != want {
			t.Errorf("got %+v, want %+v", res, want)
		}
		if a := mustGet(t, c, "/p/a"); a.EventsLocal[MemcgSwapHigh] != 17 {
			t.Errorf("swap_high events %d, want 17", a.EventsLocal[MemcgSwapHigh])
		}
	})
	t.Run("dying task", func(t *testing.T) {
		c := setup(t, 110<<8, 0)
		if res, _ := c.HandleOverHigh("/p/a", 64, HighOptions{Dying: true}, nil); res != (HighResult{}) {
			t.Errorf("got %+v", res)
		}
	})
}

func TestSetLimits(t *testing.T) {
	t.Run("memory.max below usage, nothing reclaimable", func(t *testing.T) {
		c := fullCgroup(t, 100)
		res, err := c.SetMax("/a", 50, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := (LimitResult{ReclaimRounds: 16, InvokeOOM: true}); res != want {
			t.Errorf("got %+v, want %+v", res, want)
		}
		if a := mustGet(t, c, "/a"); a.MaxPages != 50 || a.CurrentPages != 100 || a.EventsLocal[MemcgOOM] != 1 {
			t.Errorf("/a %+v", a)
		}
		// Over the limit, every charge fails until usage comes down.
		if ok, over, _ := c.TryCharge("/a/b", 1); ok || over != "/a" {
			t.Errorf("charge over a lowered limit: %v %q", ok, over)
		}
	})
	t.Run("memory.max below usage, reclaim succeeds", func(t *testing.T) {
		c := fullCgroup(t, 100)
		res, _ := c.SetMax("/a", 50, freeFrom(t, c, "/a/b", 1<<20, nil))
		if want := (LimitResult{ReclaimRounds: 1, ReclaimedPages: 50}); res != want {
			t.Errorf("got %+v, want %+v", res, want)
		}
	})
	t.Run("memory.high below usage: 17 fruitless rounds, no OOM", func(t *testing.T) {
		c := fullCgroup(t, 100)
		res, _ := c.SetHigh("/a", 50, nil)
		if want := (LimitResult{ReclaimRounds: 17}); res != want {
			t.Errorf("got %+v, want %+v", res, want)
		}
		if a := mustGet(t, c, "/a"); a.HighPages != 50 || a.Events != (MemcgEvents{}) {
			t.Errorf("/a %+v", a)
		}
	})
	t.Run("root and bad values", func(t *testing.T) {
		c := fullCgroup(t, 100)
		if _, err := c.SetMax("/", 5, nil); !errors.Is(err, ErrRootLimit) {
			t.Errorf("root memory.max: %v", err)
		}
		if err := c.SetSwapMax("/a", -1); !errors.Is(err, ErrBadPages) {
			t.Errorf("negative swap.max: %v", err)
		}
		if _, err := c.SetMax("/a", 0, nil); err != nil || mustGet(t, c, "/a").MaxPages != PageCounterMax {
			t.Errorf("memory.max 0 should mean max: %v", err)
		}
	})
}

func TestSwapCharge(t *testing.T) {
	c := newTestCgroups(t, 1, cg{"/a", CgroupLimits{SwapMaxPages: 10}}, cg{"/a/b", CgroupLimits{SwapMaxPages: 8}})
	if ok, _, _ := c.TryChargeSwap("/a/b", 6); !ok {
		t.Fatal("first swap charge")
	}
	if n, _ := c.SwapAvailable("/a/b", 1000); n != 2 {
		t.Errorf("SwapAvailable = %d, want 2 (b's limit)", n)
	}
	if n, _ := c.SwapAvailable("/a/b", 1); n != 1 {
		t.Errorf("SwapAvailable = %d, want 1 (free swap)", n)
	}
	ok, over, _ := c.TryChargeSwap("/a/b", 3)
	if ok || over != "/a/b" {
		t.Errorf("over swap.max: %v %q", ok, over)
	}
	// The kernel counts swap_max and swap_fail on the charging cgroup.
	b := mustGet(t, c, "/a/b")
	if b.EventsLocal[MemcgSwapMax] != 1 || b.EventsLocal[MemcgSwapFail] != 1 || b.SwapCurrentPages != 6 {
		t.Errorf("/a/b %+v", b)
	}
	if err := c.RecordSwapFail("/a/b"); err != nil {
		t.Fatal(err)
	}
	got, _ := c.File("/a", "memory.swap.events")
	if want := "high 0\nmax 1\nfail 2\n"; got != want {
		t.Errorf("/a memory.swap.events = %q, want %q", got, want)
	}
	if err := c.SetSwapMax("/a/b", 2); err != nil { // below usage: nothing happens
		t.Fatal(err)
	}
	if n, _ := c.SwapAvailable("/a/b", 1000); n != 0 {
		t.Errorf("SwapAvailable over a lowered limit = %d, want 0", n)
	}
	mustInvariants(t, c)
}

// TestMemcgOOMConfined checks that a memory.max OOM is confined to its
// cgroup: a charge in /small that exhausts its memory.max asks for the
// OOM killer on /small, which picks the biggest task there, not the
// bigger one elsewhere; totalpages is memory.max plus the usable swap.
func TestMemcgOOMConfined(t *testing.T) {
	c := newTestCgroups(t, 1, cg{"/small", CgroupLimits{MaxPages: 1000, SwapMaxPages: 300}}, cg{"/big", CgroupLimits{}})
	tasks := []Task{
		{PID: 1, Comm: "hog", RSSAnonPages: 50_000, Cgroup: "/big"},
		{PID: 2, Comm: "small-a", RSSAnonPages: 400, Cgroup: "/small"},
		{PID: 3, Comm: "small-b", RSSAnonPages: 600, Cgroup: "/small"},
	}
	if ok, _, _ := c.TryCharge("/big", 50_000); !ok {
		t.Fatal("charge /big")
	}
	if ok, _, _ := c.TryCharge("/small", 1000); !ok {
		t.Fatal("charge /small")
	}
	res, err := c.Charge("/small", 1, ChargeOptions{}, nil)
	if err != nil || !res.InvokeOOM || res.Over != "/small" {
		t.Fatalf("Charge = %+v, %v", res, err)
	}
	for _, tc := range []struct {
		swappiness int
		total      int64
	}{{60, 1300}, {0, 1000}} {
		oc, err := c.OOMControl(res.Over, 4096, tc.swappiness)
		if err != nil {
			t.Fatal(err)
		}
		if oc.Scope != OOMMemcg || oc.Memcg != "/small" || oc.TotalPages != tc.total {
			t.Errorf("swappiness %d: OOMControl = %+v, want totalpages %d", tc.swappiness, oc, tc.total)
		}
		oc.Allocating = 1
		d := SelectVictim(tasks, oc)
		if d.Action != OOMKill || tasks[d.Victim].PID != 3 || d.Reason != "Memory cgroup out of memory" {
			t.Errorf("SelectVictim = %+v", d)
		}
	}
	if err := c.RecordOOMKill("/small"); err != nil {
		t.Fatal(err)
	}
	got, _ := c.File("/small", "memory.events")
	if want := "low 0\nhigh 0\nmax 18\noom 1\noom_kill 1\noom_group_kill 0\n"; got != want {
		t.Errorf("memory.events = %q, want %q", got, want)
	}
}

func TestFiles(t *testing.T) {
	c := newTestCgroups(t, 1, cg{"/a", CgroupLimits{MaxPages: 256, HighPages: 128}}, cg{"/a/b", CgroupLimits{}})
	if ok, _, _ := c.TryCharge("/a/b", 10); !ok {
		t.Fatal("TryCharge")
	}
	if err := c.ModStat("/a/b", MemcgStatAnon, 7); err != nil {
		t.Fatal(err)
	}
	if err := c.ModStat("/a", MemcgStatFile, 3); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordOOMKill("/a/b"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, file, want string }{
		{"/a", "memory.current", "40960\n"},
		{"/a", "memory.max", "1048576\n"},
		{"/a", "memory.high", "524288\n"},
		{"/a/b", "memory.max", "max\n"},
		{"/a", "memory.swap.max", "max\n"},
		{"/a", "memory.peak", "40960\n"},
		// memory.stat prints every line the model keeps, in the kernel's
		// order (memory_stats[]: swapcached comes between kernel and the LRU
		// lines); the page lines in bytes.
		{"/a", "memory.stat", "anon 28672\nfile 12288\nkernel 0\nswapcached 0\ninactive_anon 0\n"},
		{"/a/b", "memory.stat", "anon 28672\nfile 0\nkernel 0\nswapcached 0\ninactive_anon 0\n"},
		{"/", "memory.stat", "anon 28672\nfile 12288\nkernel 0\nswapcached 0\ninactive_anon 0\n"},
		{"/a", "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\noom_group_kill 0\n"},
		{"/a", "memory.events.local", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"},
	} {
		got, err := c.File(tc.path, tc.file)
		if tc.file == "memory.stat" && err == nil && strings.Count(got, "\n") == int(NrMemcgStatItems) && strings.HasPrefix(got, tc.want) {
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %s = %q, %v; want %q", tc.path, tc.file, got, err, tc.want)
		}
	}
	if _, err := c.File("/", "memory.current"); !errors.Is(err, ErrNoCgroupFile) {
		t.Errorf("root memory.current: %v", err)
	}
	if _, err := c.File("/a", "memory.bogus"); !errors.Is(err, ErrNoCgroupFile) {
		t.Errorf("bogus file: %v", err)
	}
}

func TestReclaimContract(t *testing.T) {
	c := fullCgroup(t, 100)
	liar := func(MemcgReclaim) int64 { return 5 } // claims pages it never uncharged
	_, err := c.Charge("/a/b", 1, ChargeOptions{}, liar)
	if !errors.Is(err, ErrReclaimContract) {
		t.Errorf("lying reclaimer: %v", err)
	}
	_, err = c.HandleOverHigh("/a/b", 64, HighOptions{}, liar)
	if err != nil {
		t.Errorf("no cgroup over high, reclaim not called: %v", err)
	}
	_, err = c.SetHigh("/a", 10, liar)
	if !errors.Is(err, ErrReclaimContract) {
		t.Errorf("lying reclaimer on memory.high write: %v", err)
	}
}

// memcgModel is the reference for the rapid state machine: the pages the
// test charged to each cgroup itself.
type memcgModel struct {
	c       *Cgroups
	paths   []string
	own     map[string]int64
	ownSwap map[string]int64
	ownStat map[string]int64
	nrCPUs  int
	next    int
}

func (m *memcgModel) path(t *rapid.T) string { return rapid.SampledFrom(m.paths).Draw(t, "path") }

func (m *memcgModel) limit(t *rapid.T, label string) int64 {
	if rapid.Bool().Draw(t, label+"_unlimited") {
		return 0
	}
	return rapid.Int64Range(1, 400).Draw(t, label)
}

// reclaimer frees up to perRound pages a call, walking the target's
// subtree in creation order.
func (m *memcgModel) reclaimer(t *rapid.T) MemcgReclaimer {
	perRound := rapid.Int64Range(0, 40).Draw(t, "reclaim_per_round")
	if perRound == 0 && rapid.Bool().Draw(t, "nil_reclaimer") {
		return nil
	}
	return func(r MemcgReclaim) int64 {
		want, got := min(r.NrToReclaimPages, perRound), int64(0)
		for _, p := range m.paths {
			if got == want {
				break
			}
			if !InCgroup(p, r.Cgroup) || m.own[p] == 0 {
				continue
			}
			n := min(m.own[p], want-got)
			if err := m.c.Uncharge(p, n); err != nil {
				t.Fatalf("reclaimer: %v", err)
			}
			m.own[p] -= n
			got += n
		}
		return got
	}
}

func (m *memcgModel) create(t *rapid.T) {
	if len(m.paths) >= 12 {
		t.Skip("tree full")
	}
	parent := m.path(t)
	p := fmt.Sprintf("%s/g%d", parent, m.next)
	if parent == "/" {
		p = fmt.Sprintf("/g%d", m.next)
	}
	m.next++
	l := CgroupLimits{MaxPages: m.limit(t, "max"), HighPages: m.limit(t, "high"), SwapMaxPages: m.limit(t, "swap_max")}
	if err := m.c.Create(p, l); err != nil {
		t.Fatal(err)
	}
	m.paths = append(m.paths, p)
}

// chainWithinMax checks the charged cgroup and its ancestors are at or
// below memory.max.
func (m *memcgModel) chainWithinMax(t *rapid.T, p string) {
	for ; p != ""; p, _ = ParentCgroupPath(p) {
		if g := mustGet(t, m.c, p); g.CurrentPages > g.MaxPages {
			t.Fatalf("%s: current %d above max %d after a successful charge", p, g.CurrentPages, g.MaxPages)
		}
	}
}

func (m *memcgModel) tryCharge(t *rapid.T) {
	p, pages := m.path(t), rapid.Int64Range(1, 80).Draw(t, "pages")
	before := snapshotCurrents(m.c)
	ok, over, err := m.c.TryCharge(p, pages)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		if !InCgroup(p, over) {
			t.Fatalf("over %s is not %s or an ancestor", over, p)
		}
		if g := mustGet(t, m.c, over); g.CurrentPages+pages <= g.MaxPages {
			t.Fatalf("charge failed at %s which had room: %+v", over, g)
		}
		if fmt.Sprint(before) != fmt.Sprint(snapshotCurrents(m.c)) {
			t.Fatal("failed TryCharge changed counters")
		}
		return
	}
	m.own[p] += pages
	m.chainWithinMax(t, p)
}

func (m *memcgModel) charge(t *rapid.T) {
	p, pages := m.path(t), rapid.Int64Range(1, 80).Draw(t, "pages")
	opts := ChargeOptions{
		CPU:       rapid.IntRange(0, m.nrCPUs-1).Draw(t, "cpu"),
		NoBlock:   rapid.Float64Range(0, 1).Draw(t, "p_noblock") < 0.1,
		High:      rapid.Float64Range(0, 1).Draw(t, "p_high") < 0.1,
		NoRetry:   rapid.Bool().Draw(t, "noretry"),
		PassedOOM: rapid.Bool().Draw(t, "passed_oom"),
	}
	res, err := m.c.Charge(p, pages, opts, m.reclaimer(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.InvokeOOM && (res.Charged || res.Over == "") {
		t.Fatalf("OOM with %+v", res)
	}
	if !res.Charged {
		return
	}
	m.own[p] += pages
	if !res.Forced && !res.FromStock {
		m.chainWithinMax(t, p)
	}
}

func (m *memcgModel) uncharge(t *rapid.T) {
	p := m.path(t)
	if m.own[p] == 0 {
		err := m.c.Uncharge(p, 1)
		if !errors.Is(err, ErrCounterUnderflow) {
			t.Fatalf("uncharge of an empty cgroup: %v", err)
		}
		return
	}
	if rapid.Bool().Draw(t, "too_many") {
		before := snapshotCurrents(m.c)
		extra := rapid.Int64Range(1, 10).Draw(t, "extra")
		if err := m.c.Uncharge(p, m.own[p]+extra); !errors.Is(err, ErrCounterUnderflow) {
			t.Fatalf("over-uncharge: %v", err)
		}
		if fmt.Sprint(before) != fmt.Sprint(snapshotCurrents(m.c)) {
			t.Fatal("failed Uncharge changed counters")
		}
		return
	}
	n := rapid.Int64Range(1, m.own[p]).Draw(t, "n")
	if err := m.c.Uncharge(p, n); err != nil {
		t.Fatal(err)
	}
	m.own[p] -= n
}

func (m *memcgModel) setLimit(t *rapid.T) {
	p := m.path(t)
	if p == "/" {
		if _, err := m.c.SetMax(p, 1, nil); !errors.Is(err, ErrRootLimit) {
			t.Fatalf("root limit: %v", err)
		}
		return
	}
	v := m.limit(t, "value")
	var err error
	switch rapid.IntRange(0, 3).Draw(t, "which") {
	case 0:
		_, err = m.c.SetMax(p, v, m.reclaimer(t))
	case 1:
		_, err = m.c.SetHigh(p, v, m.reclaimer(t))
	case 2:
		err = m.c.SetSwapMax(p, v)
	case 3:
		err = m.c.SetSwapHigh(p, v)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (m *memcgModel) swap(t *rapid.T) {
	p := m.path(t)
	if m.ownSwap[p] > 0 && rapid.Bool().Draw(t, "swap_in") {
		n := rapid.Int64Range(1, m.ownSwap[p]).Draw(t, "n")
		if err := m.c.UnchargeSwap(p, n); err != nil {
			t.Fatal(err)
		}
		m.ownSwap[p] -= n
		return
	}
	n := rapid.Int64Range(1, 50).Draw(t, "n")
	ok, _, err := m.c.TryChargeSwap(p, n)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		m.ownSwap[p] += n
	}
}

func (m *memcgModel) overHigh(t *rapid.T) {
	p, n := m.path(t), rapid.Int64Range(1, 200).Draw(t, "nr_pages")
	res, err := m.c.HandleOverHigh(p, n, HighOptions{}, m.reclaimer(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.PenaltyJiffies < 0 || res.PenaltyJiffies > MemcgMaxHighDelayJiffies ||
		(res.StallNs != 0 && res.StallNs != res.PenaltyJiffies*MemcgJiffyNs) {
		t.Fatalf("HandleOverHigh = %+v", res)
	}
}

func (m *memcgModel) misc(t *rapid.T) {
	p := m.path(t)
	switch rapid.IntRange(0, 2).Draw(t, "op") {
	case 0:
		if err := m.c.DrainAllStock(p); err != nil {
			t.Fatal(err)
		}
	case 1:
		if err := m.c.RecordOOMKill(p); err != nil {
			t.Fatal(err)
		}
	case 2:
		d := rapid.Int64Range(-m.ownStat[p], 30).Draw(t, "delta")
		if err := m.c.ModStat(p, MemcgStatAnon, d); err != nil {
			t.Fatal(err)
		}
		m.ownStat[p] += d
	}
}

// check compares the tree with the reference after every step: each
// cgroup's own charge is what the test charged; memory.current is its
// subtree's own charges plus stocks; nothing is negative.
func (m *memcgModel) check(t *rapid.T) {
	if err := m.c.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.paths {
		g := mustGet(t, m.c, p)
		want, wantSwap := int64(0), int64(0)
		for _, d := range m.paths {
			if InCgroup(d, p) {
				want += m.own[d] + mustGet(t, m.c, d).StockPages
				wantSwap += m.ownSwap[d]
			}
		}
		switch {
		case g.LocalPages != m.own[p] || g.SwapLocalPages != m.ownSwap[p] || g.StatLocal[MemcgStatAnon] != m.ownStat[p]:
			t.Fatalf("%s own %d swap %d anon %d, reference %d %d %d", p, g.LocalPages, g.SwapLocalPages,
				g.StatLocal[MemcgStatAnon], m.own[p], m.ownSwap[p], m.ownStat[p])
		case g.CurrentPages != want || g.SwapCurrentPages != wantSwap:
			t.Fatalf("%s current %d swap %d, want %d %d", p, g.CurrentPages, g.SwapCurrentPages, want, wantSwap)
		case g.CurrentPages < 0 || g.StockPages < 0 || g.StockPages > MemcgChargeBatch*int64(m.nrCPUs):
			t.Fatalf("%s: %+v", p, g)
		}
	}
}

// TestCgroupsStateMachine drives random charges, uncharges, limit
// changes, swap, throttling and stock drains across a random tree and
// checks the reference after every step.
func TestCgroupsStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nrCPUs := rapid.IntRange(1, 4).Draw(t, "cpus")
		c, err := NewCgroups(nrCPUs)
		if err != nil {
			t.Fatal(err)
		}
		m := &memcgModel{c: c, paths: []string{"/"}, own: map[string]int64{}, ownSwap: map[string]int64{},
			ownStat: map[string]int64{}, nrCPUs: nrCPUs}
		t.Repeat(map[string]func(*rapid.T){
			"create":    m.create,
			"tryCharge": m.tryCharge,
			"charge":    m.charge,
			"uncharge":  m.uncharge,
			"setLimit":  m.setLimit,
			"swap":      m.swap,
			"overHigh":  m.overHigh,
			"misc":      m.misc,
			"":          m.check,
		})
	})
}

func BenchmarkChargeFromStock(b *testing.B) {
	c := newTestCgroups(b, 1, cg{"/a", CgroupLimits{}}, cg{"/a/b", CgroupLimits{}})
	for b.Loop() {
		if res, err := c.Charge("/a/b", 1, ChargeOptions{}, nil); err != nil || !res.Charged {
			b.Fatal(res, err)
		}
		if err := c.Uncharge("/a/b", 1); err != nil {
			b.Fatal(err)
		}
	}
}
