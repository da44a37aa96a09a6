package world

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// loadShort loads an embedded scenario shortened for a test.
func loadShort(t *testing.T, name string, sets ...string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if err := sc.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestObserverSeesEverySample: the observer is shown every row of the
// time series as it is sampled, with the OOM kills so far and each node's
// memory, and observing changes nothing in the result.
func TestObserverSeesEverySample(t *testing.T) {
	skipUnderRace(t)
	sc := loadShort(t, "anon-fill", "run.duration_ms=6000", "output.sample_interval_ms=250")
	plain, err := Run(context.Background(), sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]float64
	var kills []int
	var nodes int
	observed, err := Run(context.Background(), sc, Options{Observer: func(s *Snapshot) {
		if len(s.Row) != len(s.Columns) || s.Row[0] != float64(s.TimeNs) {
			t.Fatalf("sample at %d ns: row of %d for %d columns, time %v", s.TimeNs, len(s.Row), len(s.Columns), s.Row[0])
		}
		rows = append(rows, slices.Clone(s.Row))
		kills = append(kills, len(s.OOMEvents))
		nodes = len(s.Nodes)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(observed.Summary, plain.Summary) || !reflect.DeepEqual(observed.Timeseries, plain.Timeseries) {
		t.Fatal("observing changed the result")
	}
	if !reflect.DeepEqual(rows, plain.Timeseries.Rows) {
		t.Fatalf("observer saw %d rows, the time series has %d (or they differ)", len(rows), len(plain.Timeseries.Rows))
	}
	if nodes != 2 {
		t.Errorf("snapshot has %d nodes, anon-fill's machine has 2", nodes)
	}
	// anon-fill ends in one OOM kill: the observer sees it arrive.
	if plain.Summary.OOMKills != 1 || kills[0] != 0 || kills[len(kills)-1] != 1 {
		t.Errorf("OOM kills: summary %d, observed %d at the start and %d at the end", plain.Summary.OOMKills, kills[0], kills[len(kills)-1])
	}
}

// TestObserverSeesZoneSizes: the snapshot carries what the kernel model
// derived from each node's memory, as Linux sizes it: min_free_kbytes
// from the lowmem pages (int_sqrt(kB * 16); with THP off, so that
// khugepaged does not raise it), shared among the nodes as their min
// watermarks, low and high above min, and per-CPU lists of at least one
// page a batch with high at least four batches.
func TestObserverSeesZoneSizes(t *testing.T) {
	sc := loadShort(t, "oom-crisis", "run.duration_ms=1", "kernel.thp_enabled=never")
	var snap Snapshot
	if _, err := Run(context.Background(), sc, Options{Observer: func(s *Snapshot) {
		if snap.Nodes == nil {
			snap = *s
			snap.Nodes = slices.Clone(s.Nodes)
		}
	}}); err != nil {
		t.Fatal(err)
	}
	var managed, mins int64
	for _, n := range snap.Nodes {
		managed += n.ManagedPages
		mins += n.Wmark.Min
		if !(n.Wmark.Min > 0 && n.Wmark.Low > n.Wmark.Min && n.Wmark.High > n.Wmark.Low) {
			t.Errorf("node %d: watermarks %+v", n.ID, n.Wmark)
		}
		if n.PCP.Batch < 1 || n.PCP.HighMin < 4*n.PCP.Batch {
			t.Errorf("node %d: per-CPU lists %+v", n.ID, n.PCP)
		}
	}
	want := int64(math.Sqrt(float64(managed * 4 * 16)))
	if snap.MinFreeKbytes < want-1 || snap.MinFreeKbytes > want+1 {
		t.Errorf("min_free_kbytes %d, want int_sqrt(%d kB * 16) = %d", snap.MinFreeKbytes, managed*4, want)
	}
	if d := mins - snap.MinFreeKbytes/4; d < -int64(len(snap.Nodes)) || d > 0 {
		t.Errorf("min watermarks sum to %d pages, min_free_kbytes %d is %d pages", mins, snap.MinFreeKbytes, snap.MinFreeKbytes/4)
	}
}

// TestStopAtIsTheShorterRun: a run stopped at t is the run whose
// duration is t, bit for bit, checked or not.
func TestStopAtIsTheShorterRun(t *testing.T) {
	skipUnderRace(t)
	long := loadShort(t, "container-oom", "run.duration_ms=3000")
	short := loadShort(t, "container-oom", "run.duration_ms=1700")
	want, err := Run(context.Background(), short, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, every := range []int64{0, 64} {
		got, err := Run(context.Background(), long, Options{StopAtNs: 1_700_000_000, CheckEvery: every})
		if err != nil {
			t.Fatal(err)
		}
		got.Summary.InvariantChecks = 0
		if !reflect.DeepEqual(got.Summary, want.Summary) || !reflect.DeepEqual(got.Timeseries, want.Timeseries) {
			t.Fatalf("check every %d: stopped at 1.7 s (trace %s, %d events) is not the 1.7 s run (trace %s, %d events)",
				every, got.Summary.TraceHash, got.Summary.Events, want.Summary.TraceHash, want.Summary.Events)
		}
	}
}

// TestCancelStopsTheRun: a cancelled context stops a run, checked or
// not, with the context's error; an unchecked run stops within
// cancelCheckNs of simulated time, so before its next sample.
func TestCancelStopsTheRun(t *testing.T) {
	skipUnderRace(t)
	sc := loadShort(t, "anon-fill")
	for _, every := range []int64{0, 16} {
		ctx, cancel := context.WithCancel(context.Background())
		var afterNs int64 = -1
		late := 0
		_, err := Run(ctx, sc, Options{CheckEvery: every, Observer: func(s *Snapshot) {
			if afterNs >= 0 {
				late++
			}
			if s.TimeNs >= 500_000_000 && afterNs < 0 {
				afterNs = s.TimeNs
				cancel()
			}
		}})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("check every %d: err = %v, want context.Canceled", every, err)
		}
		if afterNs < 0 {
			t.Fatalf("check every %d: the run stopped before the observer cancelled it", every)
		}
		if every == 0 && late > 0 {
			t.Errorf("the run went on for %d samples after the cancel", late)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, sc, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a run with a cancelled context: err = %v", err)
	}
}
