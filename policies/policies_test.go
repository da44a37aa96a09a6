package policies

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"testing"

	"github.com/sbmpsim/sbmpsim/sbmp"
)

// The registry names are a contract: scenarios and scripts use them.
func TestRegistryNames(t *testing.T) {
	want := map[Kind][]string{
		KindMerge:   {"delayed", "eager", "lazy-threshold", "watermark"},
		KindRefill:  {"adaptive-batch", "fixed-batch", "interleave", "local-first", "nearest-node", "steal-peer"},
		KindDegrade: {"fail-fast", "immediate-tier2", "reclaim-first", "steal-remote", "wait-refill"},
	}
	for k, names := range want {
		if got := Names(k); !slices.Equal(got, names) {
			t.Errorf("%s policies = %v, want %v", k, got, names)
		}
	}
	for _, s := range List() {
		if s.Doc == "" {
			t.Errorf("%s/%s has no doc", s.Kind, s.Name)
		}
	}
}

// The parameter keys are a contract too: scenario files, --set and sweeps
// use them, and no key may change its meaning.
func TestParamKeys(t *testing.T) {
	want := []string{
		"policy.merge_trim_interval_ms", "policy.merge_trim_fraction", "policy.merge_trim_low_water", "policy.merge_threshold",
		"policy.merge_delay_ms", "policy.merge_free_fraction", "policy.merge_max_pending",
		"policy.refill_batch", "policy.refill_min_batch", "policy.refill_max_batch", "policy.refill_window_ms",
		"policy.degrade_min_dwell_ms", "policy.degrade_exit_refills", "policy.degrade_carve_small", "policy.degrade_wait_ms", "policy.degrade_max_wait_ms",
	}
	if got := ParamKeys(); !slices.Equal(got, want) {
		t.Fatalf("ParamKeys() = %v\nwant %v", got, want)
	}
	for _, key := range want {
		k, name, ok := LookupParamKey(key)
		if !ok || ParamKey(k, name) != key {
			t.Errorf("LookupParamKey(%q) = %s, %s, %v", key, k, name, ok)
		}
	}
	for _, key := range []string{"policy.refill_bach", "refill_batch", "policy.merge_batch", "policy.degrade"} {
		if k, name, ok := LookupParamKey(key); ok {
			t.Errorf("LookupParamKey(%q) = %s, %s", key, k, name)
		}
	}
	// A policy's doc names its parameters by their keys.
	quoted := regexp.MustCompile("`([^`]*)`")
	for _, s := range List() {
		for _, m := range quoted.FindAllStringSubmatch(s.Doc, -1) {
			if k, name, ok := LookupParamKey(m[1]); !ok || k != s.Kind || !slices.ContainsFunc(s.Params, func(p Param) bool { return p.Name == name }) {
				t.Errorf("%s/%s: doc names %s, not one of its parameters", s.Kind, s.Name, m[1])
			}
		}
	}
}

func TestParamCheck(t *testing.T) {
	batch, _ := Spec{Params: []Param{batchParam}}.Param("batch")
	frac := Param{Name: "f", Min: 0, Max: 1}
	for _, tt := range []struct {
		p    Param
		x    float64
		want string
	}{
		{batch, 64, ""}, {batch, 1, ""}, {batch, 65536, ""},
		{batch, 0, "must be an integer in 1..65536, got 0"},
		{batch, 1.5, "must be an integer in 1..65536, got 1.5"},
		{batch, math.NaN(), "must be an integer in 1..65536, got NaN"},
		{frac, 0, ""}, {frac, 0.25, ""},
		{frac, math.Inf(1), "must be a number in 0..1, got +Inf"},
	} {
		err := tt.p.Check(tt.x)
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("%s.Check(%v) = %v, want %q", tt.p.Name, tt.x, err, tt.want)
		}
	}
}

func TestResolveParams(t *testing.T) {
	if _, err := Merge("delayed", map[string]float64{"delay_ms": 50}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind   Kind
		name   string
		params map[string]float64
		want   string
	}{
		{KindMerge, "lazy", nil, `no merge policy "lazy"; known: delayed, eager, lazy-threshold, watermark`},
		{KindMerge, "delayed", map[string]float64{"delay": 5}, `merge policy "delayed" has no parameter "delay" (it has: delay_ms, trim_interval_ms, trim_fraction, trim_low_water)`},
		{KindRefill, "fixed-batch", map[string]float64{"batch": 1.5}, `refill policy "fixed-batch": batch must be an integer in 1..65536, got 1.5`},
		{KindMerge, "watermark", map[string]float64{"free_fraction": 2}, `merge policy "watermark": free_fraction must be a number in 0..1, got 2`},
	}
	for _, tt := range tests {
		_, err := build(tt.kind, tt.name, tt.params)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s %s %v: err %v, want %q", tt.kind, tt.name, tt.params, err, tt.want)
		}
	}
}

// env is a two-node, four-CPU environment for driving real allocators.
type env struct {
	now          int64
	limit, used  int64
	next         uint64
	freeFraction float64
}

func (e *env) Now() int64 { return e.now }
func (e *env) AllocPages(cpu, node, order int, _ sbmp.PageFlags) (uint64, int, int64, bool) {
	if e.used+1<<order > e.limit {
		return 0, node, 0, false
	}
	size := uint64(4096) << order
	e.next = (e.next + size - 1) &^ (size - 1)
	addr := e.next
	e.next += size
	e.used += 1 << order
	return addr, node, 0, true
}
func (e *env) FreePages(int, uint64, int)  {}
func (e *env) FreeFraction(int) float64    { return e.freeFraction }
func (e *env) NumCPUs() int                { return 4 }
func (e *env) NumNodes() int               { return 2 }
func (e *env) NodeOfCPU(cpu int) int       { return cpu / 2 }
func (e *env) NodesByDistance(n int) []int { return []int{n, 1 - n} }
func (e *env) CostNs(_ sbmp.CostOp, from, to int, _ int64) int64 {
	if from != to {
		return 100
	}
	return 10
}

func newAlloc(t *testing.T, e *env, merge, refill, degrade string) *sbmp.Allocator {
	t.Helper()
	m, err := Merge(merge, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Refill(refill, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Degrade(degrade, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := sbmp.New(sbmp.Env{Clock: e, Pages: e, Topology: e, Cost: e}, sbmp.Config{Merge: m, Refill: r, Degrade: d, Tier0CapacitySlots: 128})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestEveryPolicyRuns drives every combination through a churn that runs
// Tier-1 dry, and checks allocations keep succeeding (or fail only as
// fail-fast says) and frees are accepted.
func TestEveryPolicyRuns(t *testing.T) {
	for _, merge := range Names(KindMerge) {
		for _, refill := range Names(KindRefill) {
			for _, degrade := range Names(KindDegrade) {
				e := &env{limit: 1<<9 + 256, next: 1 << 22, freeFraction: 0.05}
				a := newAlloc(t, e, merge, refill, degrade)
				var live []uint64
				fails := 0
				for i := range 6000 {
					e.now += 1000
					r := a.Alloc(i%4, 1024)
					if r.OK {
						live = append(live, r.Addr)
					} else {
						fails++
						// Only fail-fast and wait-refill fail while the page
						// source still has a page to give.
						if e.used < e.limit && degrade != "fail-fast" && degrade != "wait-refill" {
							t.Fatalf("%s/%s/%s: allocation %d failed with %d of %d pages used", merge, refill, degrade, i, e.used, e.limit)
						}
					}
					if i%3 == 0 && len(live) > 0 {
						if _, err := a.Free((i+1)%4, live[0], 1024); err != nil {
							t.Fatalf("%s/%s/%s: %v", merge, refill, degrade, err)
						}
						live = live[1:]
					}
				}
				if degrade == "fail-fast" && fails == 0 {
					t.Errorf("%s/%s/%s: Tier-1 never ran dry: the test exercises nothing", merge, refill, degrade)
				}
			}
		}
	}
}

func TestRefillPoliciesDifferInWhereTheyTake(t *testing.T) {
	stats := map[string]sbmp.Stats{}
	for _, refill := range []string{"local-first", "nearest-node", "steal-peer"} {
		e := &env{limit: 8 << 9, next: 1 << 22}
		a := newAlloc(t, e, "eager", refill, "immediate-tier2")
		// CPU 2 (node 1) frees what CPU 0 (node 0) allocated: node 0's
		// slabs free up while node 1's CPU 3 allocates.
		var live []uint64
		for range 3000 {
			live = append(live, a.Alloc(0, 256).Addr)
		}
		for _, addr := range live {
			if _, err := a.Free(0, addr, 256); err != nil {
				t.Fatal(err)
			}
		}
		a.Flush()
		for range 3000 {
			a.Alloc(2, 256)
		}
		stats[refill] = a.Stats()
	}
	if stats["nearest-node"].RefillsRemote == 0 || stats["local-first"].RefillsRemote != 0 {
		t.Errorf("remote refills: nearest-node %d (want > 0), local-first %d (want 0)", stats["nearest-node"].RefillsRemote, stats["local-first"].RefillsRemote)
	}
	if stats["local-first"].BlocksFromTier2 <= stats["nearest-node"].BlocksFromTier2 {
		t.Errorf("blocks from Tier-2: local-first %d, nearest-node %d; local-first should grow node 1", stats["local-first"].BlocksFromTier2, stats["nearest-node"].BlocksFromTier2)
	}
}

func TestWaitRefillWaitsThenFallsBack(t *testing.T) {
	e := &env{limit: 1<<9 + 16, next: 1 << 22} // one block, a few pages for Tier-2
	a := newAlloc(t, e, "eager", "fixed-batch", "wait-refill")
	for {
		r := a.Alloc(0, 1024)
		if !r.OK {
			if r.RetryAfterNs != 1e6 {
				t.Fatalf("exhausted: %+v, want a 1 ms retry", r)
			}
			break
		}
	}
	attempt := 1
	for ; attempt < 100; attempt++ {
		r := a.AllocAttempt(0, 1024, attempt)
		if r.OK {
			if r.Tier != 2 {
				t.Fatalf("attempt %d served by tier %d", attempt, r.Tier)
			}
			break
		}
	}
	if attempt != 10 {
		t.Fatalf("fell back to Tier-2 on attempt %d, want 10 (10 ms bound / 1 ms)", attempt)
	}
}

func TestDelayedMergeWaits(t *testing.T) {
	p, _ := Merge("delayed", map[string]float64{"delay_ms": 50})
	s := sbmp.MergeState{Pending: 5, OldestPendingNs: 0}
	if s.NowNs = 49e6; p.ShouldMerge(s) {
		t.Error("merged before 50 ms")
	}
	if s.NowNs = 50e6; !p.ShouldMerge(s) {
		t.Error("did not merge at 50 ms")
	}
	w, _ := Merge("watermark", nil)
	if w.ShouldMerge(sbmp.MergeState{Pending: 5, FreeFraction: 0.5}) || !w.ShouldMerge(sbmp.MergeState{Pending: 5, FreeFraction: 0.05}) {
		t.Error("watermark merge ignores the free fraction")
	}
}

// Every merge policy carries the idle trim of its parameters.
func TestMergePoliciesCarryTheirTrim(t *testing.T) {
	for _, name := range Names(KindMerge) {
		m, err := Merge(name, map[string]float64{"trim_interval_ms": 500, "trim_fraction": 0.5, "trim_low_water": 0})
		if err != nil {
			t.Fatal(err)
		}
		tr, ok := m.(sbmp.IdleTrimmer)
		if !ok || tr.IdleTrim() != (sbmp.IdleTrim{IntervalNs: 500e6, Fraction: 0.5}) || m.Name() != name {
			t.Errorf("%s: trimmer %v, trim %+v, name %s", name, ok, tr, m.Name())
		}
		def, _ := Merge(name, nil)
		if got := def.(sbmp.IdleTrimmer).IdleTrim(); got != sbmp.DefaultIdleTrim() {
			t.Errorf("%s: default trim %+v, want SLAB's %+v", name, got, sbmp.DefaultIdleTrim())
		}
	}
}

// TestDegradeHysteresisParams: every degrade policy has the two
// hysteresis parameters, with sbmp's defaults, and carve_small, and the
// policy it builds carries the values given.
func TestDegradeHysteresisParams(t *testing.T) {
	def := sbmp.DefaultDegradeHysteresis()
	for _, name := range Names(KindDegrade) {
		spec, _ := Lookup(KindDegrade, name)
		dwell, ok1 := spec.Param("min_dwell_ms")
		exit, ok2 := spec.Param("exit_refills")
		if !ok1 || !ok2 || dwell.Default*1e6 != float64(def.MinDwellNs) || exit.Default != float64(def.ExitRefills) {
			t.Errorf("%s: min_dwell_ms %+v (%v), exit_refills %+v (%v); want sbmp's defaults %+v", name, dwell, ok1, exit, ok2, def)
		}
		for _, given := range []map[string]float64{nil, {"min_dwell_ms": 2.5, "exit_refills": 7, "carve_small": 1}} {
			p, err := Degrade(name, given)
			if err != nil {
				t.Fatal(err)
			}
			want := def
			if given != nil {
				want = sbmp.DegradeHysteresis{MinDwellNs: 2_500_000, ExitRefills: 7}
			}
			hp, ok := p.(sbmp.DegradeHysteresisPolicy)
			if !ok || p.Name() != name {
				t.Errorf("%s %v: built %T named %q, which has no hysteresis", name, given, p, p.Name())
				continue
			}
			if got := hp.Hysteresis(); got != want {
				t.Errorf("%s %v: hysteresis %+v, want %+v", name, given, got, want)
			}
			wantSmall := sbmp.DegradeSmallBlock
			if given != nil {
				wantSmall = sbmp.DegradeSmallCarve
			}
			if sp, ok := p.(sbmp.DegradeSmallCostPolicy); !ok || sp.SmallCost() != wantSmall {
				t.Errorf("%s %v: small cost %v (%v), want %d", name, given, sp, ok, wantSmall)
			}
		}
	}
}
