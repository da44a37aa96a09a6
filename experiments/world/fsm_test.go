package world

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/sbmp"
)

// fsmEdgeRunMs caps each embedded scenario's run in
// TestFSMEdgesReachedByEmbeddedScenarios: long enough for numa-faults'
// latency fault (2-4 s) and node-offline (6-9 s) and for several drift
// windows.
const fsmEdgeRunMs = 12000

// TestFSMEdgesReachedByEmbeddedScenarios: SPEC 2.1 wants every edge of the
// FSM reached by what happens in a simulation. Over the embedded
// scenarios (seed 1, at most fsmEdgeRunMs each) every edge of the table
// is taken at least once; each SBMP scenario's fsm_transitions lists
// every edge, zero counts included; and the runs are checked every 9973rd
// event, so the FSM's contracts (sbmp's checkFSMs) hold on each.
func TestFSMEdgesReachedByEmbeddedScenarios(t *testing.T) {
	skipUnderRace(t)
	if testing.Short() {
		t.Skip("runs every embedded scenario for up to 12 simulated seconds")
	}
	var edges []string
	for _, c := range (&sbmp.FSM{}).Counts() {
		edges = append(edges, c.Name)
	}
	var mu sync.Mutex
	total := map[string]uint64{}
	t.Run("scenarios", func(t *testing.T) {
		for _, name := range scenarios.Names() {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				sc, err := scenario.Load(name)
				if err != nil {
					t.Fatal(err)
				}
				sc.Run.Seed = 1
				sc.Run.DurationMs = min(sc.Run.DurationMs, fsmEdgeRunMs)
				if err := sc.Validate(); err != nil {
					t.Fatal(err)
				}
				res, err := Run(context.Background(), sc, Options{CheckEvery: 9973})
				if err != nil {
					t.Fatal(err)
				}
				got := res.Summary.FSMTransitions
				keys := make([]string, 0, len(got))
				for k := range got {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if len(got) != 0 && !slices.Equal(keys, edges) {
					t.Errorf("fsm_transitions lists %v, want every edge %v", keys, edges)
				}
				t.Logf("%v", got)
				mu.Lock()
				defer mu.Unlock()
				for k, n := range got {
					total[k] += n
				}
			})
		}
	})
	for _, e := range edges {
		if total[e] == 0 {
			t.Errorf("FSM edge %s is taken by no embedded scenario (seed 1, %d ms)", e, fsmEdgeRunMs)
		}
	}
}
