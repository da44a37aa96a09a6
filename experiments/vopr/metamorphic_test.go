package vopr

import (
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/policies"
)

func TestMetamorphicSeedsPass(t *testing.T) {
	seeds, opt := []uint64{1, 2, 3, 4, 5, 6}, MetaOptions{}
	if testing.Short() {
		seeds, opt.Ops = seeds[:2], 3000
	}
	acted := map[policies.Kind]int{}
	for _, seed := range seeds {
		o := CheckMetamorphic(seed, opt)
		if o.Failed() {
			t.Errorf("seed %d:\n%s", seed, o.Report())
		}
		for _, f := range o.Families {
			for _, r := range f.Runs[1:] {
				if r.FirstDecisionDiff >= 0 {
					acted[f.Family]++
				}
			}
		}
	}
	// The sequences must exercise every family: a check in which no
	// policy ever decides differently from its default proves nothing.
	for _, k := range policies.Kinds() {
		if acted[k] == 0 && !testing.Short() {
			t.Errorf("no %s policy decided differently from %s on seeds %v", k, FamilyDefault(k), seeds)
		}
	}
}

func TestRelationViolation(t *testing.T) {
	for _, tc := range []struct {
		decision, outcome int
		bad               bool
	}{
		{-1, -1, false}, // same decisions, same history
		{10, -1, false}, // decided differently, nothing changed
		{10, 10, false}, // the outcome changed where the policy acted
		{10, 50, false},
		{-1, 7, true}, // same decisions, another outcome
		{10, 9, true}, // an outcome changed before any decision did
	} {
		got := relationViolation(MetaRun{FirstDecisionDiff: tc.decision, FirstOutcomeDiff: tc.outcome}, 100)
		if (got != "") != tc.bad {
			t.Errorf("decision %d outcome %d: %q", tc.decision, tc.outcome, got)
		}
	}
}

func TestCompareTraces(t *testing.T) {
	a := &metaTrace{decisions: []decision{{3, "true"}, {8, "false"}}, outcomes: make([]metaOutcome, 10)}
	b := &metaTrace{decisions: []decision{{3, "true"}, {8, "true"}}, outcomes: make([]metaOutcome, 10)}
	b.outcomes[9].ok = true
	d, o, n := compareTraces(a, b)
	if d != 8 || o != 9 || n != 1 {
		t.Errorf("compareTraces = %d, %d, %d; want 8, 9, 1", d, o, n)
	}
	b.decisions = b.decisions[:1] // b stopped being asked: it differs at a's next decision
	if d, _, _ := compareTraces(a, b); d != 8 {
		t.Errorf("a shorter log differs at the other's next decision, got %d", d)
	}
	b.decisions = a.decisions
	if d, _, _ := compareTraces(a, b); d != -1 {
		t.Errorf("equal logs: %d", d)
	}
}

func TestBooksRefuseOverlaps(t *testing.T) {
	b := newBooks()
	if err := b.add(1000, 64); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr uint64
		size int64
	}{{1000, 8}, {1063, 8}, {990, 11}, {900, 2000}} {
		if err := b.add(tc.addr, tc.size); err == nil {
			t.Errorf("[%d, +%d) overlaps [1000, +64) and was accepted", tc.addr, tc.size)
		}
	}
	if err := b.add(1064, 8); err != nil {
		t.Error(err)
	}
	if addr, size := b.remove(0); addr != 1000 || size != 64 || b.len() != 1 {
		t.Errorf("remove(0) = %d, %d; %d left", addr, size, b.len())
	}
	if err := b.add(1000, 64); err != nil {
		t.Errorf("a freed range is free again: %v", err)
	}
}

// TestMetaEnvCatchesABadFree: the page source refuses a free of pages it
// did not hand out, and the run reports it.
func TestMetaEnvCatchesABadFree(t *testing.T) {
	e := newMetaEnv(2, 2, 1024)
	addr, node, _, ok := e.AllocPages(0, 1, 9, 0)
	if !ok || node != 1 {
		t.Fatalf("alloc: %v on node %d", ok, node)
	}
	if _, n2, _, ok := e.AllocPages(0, 1, 10, 0); !ok || n2 != 0 {
		t.Errorf("a full node falls back to the next: ok %v node %d", ok, n2)
	}
	e.FreePages(0, addr, 8)
	if e.badFree == nil {
		t.Error("a free at the wrong order was accepted")
	}
}

func TestMetamorphicFamiliesHaveEveryPolicy(t *testing.T) {
	o := CheckMetamorphic(1, MetaOptions{Ops: 200})
	for _, f := range o.Families {
		if len(f.Runs) != len(policies.Names(f.Family)) || f.Runs[0].Policy != FamilyDefault(f.Family) {
			t.Errorf("%s: runs %v", f.Family, f.Runs)
		}
	}
	if !strings.Contains(o.Report(), "merge:") {
		t.Error(o.Report())
	}
}
