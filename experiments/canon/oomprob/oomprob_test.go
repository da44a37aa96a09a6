package oomprob

import (
	"math"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/canon/loadsweep"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// TestCrossings: the 50 % crossing is interpolated between the levels
// around the first crossing, a fall back below 50 % is said, and a curve
// that never reaches 50 % says so.
func TestCrossings(t *testing.T) {
	cells := func(ps ...float64) []canon.Arm {
		out := make([]canon.Arm, len(ps))
		for i, p := range ps {
			out[i].P = p
		}
		return out
	}
	s := &loadsweep.Sweep{Levels: []float64{1, 2, 4}, Policies: []string{"a", "b", "c"},
		Cells: [][]canon.Arm{cells(0, 1, 1), cells(0.25, 0.75, 0.25), cells(0, 0.25, 0.25)}}
	got := crossings(s)
	for i, want := range []string{"`a` at load factor 1.50 ", "`b` at load factor 1.50 (P = 0.25 at 1, 0.75 at 2), though it falls back to 0.25 at 4", "`c` never (at most 0.25"} {
		if !strings.HasPrefix(got[i], want) {
			t.Errorf("crossing %d: %q, want prefix %q", i, got[i], want)
		}
	}
}

// summ is a summary of seed killed first at sec seconds (NaN: never) in
// a 10 s run.
func summ(seed uint64, sec float64) world.Summary {
	s := world.Summary{Seed: seed, SimTimeNs: 10e9}
	if !math.IsNaN(sec) {
		s.OOMEvents = []world.OOMEvent{{TimeNs: int64(sec * 1e9)}, {TimeNs: int64(sec*1e9) + 5}}
	}
	return s
}

// TestKillTimeOf: a cell's kill time is the sweep report's Kaplan-Meier
// estimate in seconds, a reached median as its time and one the curve
// never reached as "> follow-up" (the estimate itself is tested in
// experiments/sweep and experiments/stats).
func TestKillTimeOf(t *testing.T) {
	kt := killTimeOf(sweep.FirstOOM{MedianNs: 3e9, MedianReached: true, CI95LoNs: 2e9, CI95LoReached: true, CI95HiNs: 10e9})
	if !kt.median.Reached || kt.median.Value != 3 || bound(kt.lo) != "2.00" || bound(kt.hi) != "> 10" {
		t.Errorf("mostly killed: %+v", kt)
	}
	kt = killTimeOf(sweep.FirstOOM{MedianNs: 10e9, FollowUpMaxNs: 10e9})
	if kt.median.Reached || bound(kt.median) != "> 10" {
		t.Errorf("mostly alive: %+v", kt)
	}
}

// TestPairedKillTimes: kill times are paired by seed, not by position;
// seeds killed under one policy only are left out; a shift of the same
// size on every seed gives that shift with a zero-width interval; a
// level with fewer than two pairs gives none.
func TestPairedKillTimes(t *testing.T) {
	nan := math.NaN()
	s := &loadsweep.Sweep{Levels: []float64{1, 2}, Policies: []string{"base", "later"},
		Cells: [][]canon.Arm{
			{{Runs: []world.Summary{summ(1, 2), summ(2, 3), summ(3, 4), summ(4, nan)}}, {Runs: []world.Summary{summ(1, 1), summ(2, nan)}}},
			{{Runs: []world.Summary{summ(3, 4.5), summ(2, 3.5), summ(1, 2.5), summ(4, 1)}}, {Runs: []world.Summary{summ(1, 2), summ(2, 2)}}},
		}}
	pks, err := pairedKillTimes(s, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(pks) != 2 || !pks[0].ok || pks[0].d.N != 3 || math.Abs(pks[0].d.MeanDiff-0.5) > 1e-12 || pks[0].d.CI.Lo != pks[0].d.CI.Hi {
		t.Errorf("level 1: %+v", pks[0])
	}
	if pks[1].ok {
		t.Errorf("level 2 has one pair, got %+v", pks[1])
	}
}
