package world

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/sim"
)

// TestRunCheckedMatchesRun: checking reads only, so every embedded
// scenario gives the same result checked (after every event) as run, and
// breaks no invariant; the kernel's record of what it touched is
// complete.
func TestRunCheckedMatchesRun(t *testing.T) {
	skipUnderRace(t)
	for _, name := range scenarios.Names() {
		t.Run(name, func(t *testing.T) {
			sc, err := scenario.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			ms := "50"
			if testing.Short() {
				ms = "5"
			}
			sets := []string{"run.duration_ms=" + ms, "output.per_cpu=true"}
			if sc.Machine.Preset != "" {
				sets = append(sets, "machine.node_memory_mb=64")
			}
			for _, set := range sets {
				if err := sc.Set(set); err != nil {
					t.Fatal(err)
				}
			}
			if err := sc.Validate(); err != nil {
				t.Fatal(err)
			}
			want, err := Run(context.Background(), sc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// Whole walks only before the first event and after the
			// last: every check between is incremental, and must find
			// its counts in agreement with the kernel's (no resync).
			got, err := Run(context.Background(), sc, Options{CheckEvery: 1, CheckFullEvery: 1 << 40})
			if err != nil {
				t.Fatal(err)
			}
			if got.Summary.InvariantChecks == 0 {
				t.Error("no invariant checks counted")
			}
			if c := got.Check; c.Touched.Resyncs != 0 || c.FullWalks != 2 || c.Passes != got.Summary.Events+2 {
				t.Errorf("check stats %+v after %d events: want no resync, 2 whole walks, a pass per event and 2", c, got.Summary.Events)
			}
			if got.Summary.TraceHash != want.Summary.TraceHash {
				t.Fatalf("trace hash %s checked, %s run", got.Summary.TraceHash, want.Summary.TraceHash)
			}
			got.Summary.InvariantChecks = 0
			if !reflect.DeepEqual(got.Summary, want.Summary) || !reflect.DeepEqual(got.Timeseries, want.Timeseries) ||
				!reflect.DeepEqual(got.Latency, want.Latency) || !reflect.DeepEqual(got.Files, want.Files) || !bytes.Equal(got.Scenario, want.Scenario) {
				t.Fatal("checked run's result differs from Run's")
			}
		})
	}
}

// TestRunCheckedReportsTheEvent: a broken book is reported with the
// event that broke it.
func TestRunCheckedReportsTheEvent(t *testing.T) {
	sc, err := scenario.Load("steady")
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Set("run.duration_ms=20"); err != nil {
		t.Fatal(err)
	}
	// Every free also counts one live object too many.
	_, err = Run(context.Background(), sc, Options{CheckEvery: 1, setUp: func(s *simulation) {
		s.eng.Probe(s.synth.kFree, func(sim.Event) { s.books.liveObjects++ })
	}})
	var ie *InvariantError
	if !errors.As(err, &ie) || ie.Invariant != "books" || ie.Event == 0 || ie.Kind == "" || !strings.Contains(err.Error(), "event ") {
		t.Fatalf("got %v, want a books violation naming its event", err)
	}
}
