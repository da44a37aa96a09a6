package sbmp

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The legacy-degrade golden is a record of what the allocator did on a
// fixed operation sequence before degrade had hysteresis (one flag,
// cleared by every refill that found slots): its counters and a hash of
// every result, per degrade action. It was written by the code of the
// commit that added it ("sbmp: record today's degrade behaviour") and is
// not regenerated: it is the reference that hysteresis with MinDwellNs 0
// and ExitRefills 1 must reproduce.

const legacyDegradeGolden = "testdata/degrade_legacy.golden"

// scriptedDegrade is a degrade policy that always takes one action.
type scriptedDegrade struct {
	action DegradeAction
	waitNs int64
}

func (p scriptedDegrade) Name() string { return fmt.Sprintf("scripted-%d", p.action) }
func (p scriptedDegrade) OnExhausted(s DegradeState) DegradeDecision {
	if p.action == DegradeWait && s.Attempt >= 2 {
		return DegradeDecision{Action: DegradeTier2}
	}
	return DegradeDecision{Action: p.action, WaitNs: p.waitNs}
}

// legacyDegradeActions are the actions the golden covers, each a policy.
var legacyDegradeActions = []DegradeAction{DegradeTier2, DegradeFail, DegradeWait, DegradeStealRemote, DegradeReclaimFirst}

// legacyDegradeRun is what one run of the sequence produced.
type legacyDegradeRun struct {
	stats   Stats
	hash    uint64 // of every result but the allocations' costs
	costSum int64  // the allocations' costs summed
}

// runLegacyDegradeSequence drives a small, tight allocator through a
// fixed pseudo-random sequence of allocation bursts, frees and ticks that
// enters and leaves degrade many times, with the degrade policy p.
func runLegacyDegradeSequence(t *testing.T, p DegradePolicy) (*Allocator, legacyDegradeRun) {
	t.Helper()
	f := newFakeEnv(4, 2, 2<<9+64) // two blocks and 64 pages of Tier-2
	// Homing as it was when the record was made: remote frees stay on
	// the freeing CPU, the newest partial slab first, no trims; and no
	// FSM drift signal, which did not exist.
	a := newTestAllocator(t, f, Config{Tier0CapacitySlots: 64, Refill: &FixedBatchRefill{Slots: 16}, Degrade: p,
		RemoteFreeBatch: -1, SlabSelect: SlabNewest, Merge: trimmingMerge{LazyThresholdMerge{Threshold: 32}, IdleTrim{}}, FSM: FSMConfig{DriftWindowNs: -1}})
	rng := rand.New(rand.NewPCG(13, 4))
	h := fnv.New64a()
	var run legacyDegradeRun
	type obj struct {
		addr uint64
		size int64
	}
	var live []obj
	sizes := []int64{64, 256, 1024, 1024, 1024, 1024}
	for range 4000 {
		switch op := rng.IntN(10); {
		case op < 5:
			cpu, size := rng.IntN(f.cpus), sizes[rng.IntN(len(sizes))]
			for range 1 + rng.IntN(64) {
				r := a.Alloc(cpu, size)
				for attempt := 1; !r.OK && r.RetryAfterNs > 0; attempt++ {
					f.now += r.RetryAfterNs
					run.costSum += r.CostNs
					fmt.Fprintf(h, "retry %d %d|", attempt, r.RetryAfterNs)
					r = a.AllocAttempt(cpu, size, attempt)
				}
				run.costSum += r.CostNs
				fmt.Fprintf(h, "a %d %d %v %d %d %v|", cpu, size, r.OK, r.Addr, r.Tier, r.Degraded)
				if r.OK {
					live = append(live, obj{r.Addr, size})
				}
			}
		case op < 9:
			cpu := rng.IntN(f.cpus)
			for range 1 + rng.IntN(48) {
				if len(live) == 0 {
					break
				}
				i := rng.IntN(len(live))
				o := live[i]
				live = slices.Delete(live, i, i+1)
				c, err := a.Free(cpu, o.addr, o.size)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(h, "f %d %d %d|", cpu, o.addr, c)
			}
		default:
			f.now += rng.Int64N(5e6)
			if err := a.Tick(); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
	}
	run.stats, run.hash = a.Stats(), h.Sum64()
	return a, run
}

// readLegacyDegrade parses the golden into one map per action.
func readLegacyDegrade(t *testing.T) map[DegradeAction]map[string]int64 {
	t.Helper()
	data, err := os.ReadFile(legacyDegradeGolden)
	if err != nil {
		t.Fatal(err)
	}
	out := map[DegradeAction]map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		act, err1 := strconv.Atoi(f[0])
		x, err2 := strconv.ParseInt(f[2], 10, 64)
		if len(f) != 3 || err1 != nil || err2 != nil {
			t.Fatalf("%s: bad line %q", legacyDegradeGolden, line)
		}
		if out[DegradeAction(act)] == nil {
			out[DegradeAction(act)] = map[string]int64{}
		}
		out[DegradeAction(act)][f[1]] = x
	}
	return out
}

// noHysteresis is degrade as it was before episodes had hysteresis.
var noHysteresis = DegradeHysteresis{MinDwellNs: 0, ExitRefills: 1}

// TestDegradeLegacyGolden runs the sequence under every action with
// hysteresis off (MinDwellNs 0, ExitRefills 1) and compares with the
// record: same counters, same results. Where the flush cost lands is the
// one change: each CPU now pays its own share at its next slow path
// (beginDegrade), so the stall and the allocations' costs match the
// record once the debts still unpaid at the end are added back.
func TestDegradeLegacyGolden(t *testing.T) {
	want := readLegacyDegrade(t)
	// Steal-remote changed after the record: it used to retry the failed
	// refill's own remote steps and so did exactly what immediate Tier-2
	// did (the record shows it: the same hash); it now also takes slots
	// from other CPUs' caches. Its record stays as evidence of that.
	if want[DegradeStealRemote]["hash"] != want[DegradeTier2]["hash"] {
		t.Errorf("the record's steal-remote run differs from its immediate-tier2 run")
	}
	for _, act := range legacyDegradeActions {
		if act == DegradeStealRemote {
			continue
		}
		a, r := runLegacyDegradeSequence(t, WithHysteresis(scriptedDegrade{action: act, waitNs: 2e5}, noHysteresis))
		var owed int64
		for _, d := range a.deg.owedNs {
			owed += d
		}
		r.stats.AllocStallNs += owed
		r.costSum += owed
		// The FSM changed after the record too (the doc of FSM): refills
		// that used to be refused IDLE -> ALLOCATING are tracked now, and
		// a sync's persist and acknowledgements cost modelled time. So
		// FSMRefused differs, and the allocations' stall and costs are
		// higher by the same amount; everything else, and every result,
		// must match.
		if extra := r.stats.AllocStallNs - want[act]["AllocStallNs"]; extra < 0 || extra != r.costSum-want[act]["cost_sum"] {
			t.Errorf("action %d: stall %d and costs %d against the record's %d and %d: want both higher by the same sync time", act, r.stats.AllocStallNs, r.costSum, want[act]["AllocStallNs"], want[act]["cost_sum"])
		}
		v := reflect.ValueOf(r.stats)
		for name, w := range want[act] {
			if name == "hash" || name == "cost_sum" || name == "FSMRefused" || name == "AllocStallNs" {
				continue
			}
			f := v.FieldByName(name)
			if !f.IsValid() {
				t.Fatalf("the record has %s, which Stats no longer has", name)
			}
			if f.Int() != w {
				t.Errorf("action %d: %s = %d, the record has %d", act, name, f.Int(), w)
			}
		}
		if int64(r.hash) != want[act]["hash"] {
			t.Errorf("action %d: results hash %d, the record has %d", act, int64(r.hash), want[act]["hash"])
		}
		if r.stats.DegradeExits < r.stats.DegradeEntries-1 || r.stats.DegradeExits > r.stats.DegradeEntries {
			t.Errorf("action %d: %d entries, %d exits", act, r.stats.DegradeEntries, r.stats.DegradeExits)
		}
	}
}

// TestDegradeHysteresisThinsEpisodes: on the same sequence, the default
// hysteresis makes fewer episodes, and so fewer flushes, than none (the
// legacy test above cannot pass by accident with hysteresis ignored).
func TestDegradeHysteresisThinsEpisodes(t *testing.T) {
	_, off := runLegacyDegradeSequence(t, WithHysteresis(ImmediateTier2{}, noHysteresis))
	_, on := runLegacyDegradeSequence(t, ImmediateTier2{})
	if on.stats.DegradeEntries >= off.stats.DegradeEntries || on.stats.Flushes >= off.stats.Flushes {
		t.Fatalf("default hysteresis: %d entries, %d flushes; none: %d entries, %d flushes; want fewer of both", on.stats.DegradeEntries, on.stats.Flushes, off.stats.DegradeEntries, off.stats.Flushes)
	}
}
