package policies

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/sbmpsim/sbmpsim/sbmp"
)

// TestRefillPlansAreSound: for any refill policy, parameters in range and
// refill history, the plan's batch is positive, within the parameters'
// bounds, and every step names a real node; every node-order policy
// visits the home node.
func TestRefillPlansAreSound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.SampledFrom(Names(KindRefill)).Draw(t, "policy")
		spec, _ := Lookup(KindRefill, name)
		params := map[string]float64{}
		for _, p := range spec.Params {
			if p.Integer {
				params[p.Name] = float64(rapid.Int64Range(int64(p.Min), min(int64(p.Max), 4096)).Draw(t, p.Name))
			} else {
				params[p.Name] = rapid.Float64Range(p.Min, min(p.Max, 100)).Draw(t, p.Name)
			}
		}
		pol, err := Refill(name, params)
		if err != nil {
			t.Fatal(err)
		}
		e := &env{}
		now := int64(0)
		for range rapid.IntRange(1, 50).Draw(t, "refills") {
			now += rapid.Int64Range(0, 5e6).Draw(t, "gap")
			cpu := rapid.IntRange(0, 3).Draw(t, "cpu")
			plan := pol.Plan(sbmp.RefillState{CPU: cpu, Class: 0, Home: e.NodeOfCPU(cpu), Capacity: 512, NowNs: now}, e)
			if plan.Batch < 1 {
				t.Fatalf("%s: batch %d", name, plan.Batch)
			}
			if lo, ok := params["min_batch"]; ok && (plan.Batch < int(lo) || plan.Batch > max(int(params["max_batch"]), int(lo))) {
				t.Fatalf("%s: batch %d outside %v..%v", name, plan.Batch, lo, params["max_batch"])
			}
			home := false
			for _, s := range plan.Steps {
				if s.Node < 0 || s.Node >= e.NumNodes() {
					t.Fatalf("%s: step on node %d", name, s.Node)
				}
				home = home || s.Node == e.NodeOfCPU(cpu)
			}
			if !home {
				t.Fatalf("%s: plan %+v never visits the home node", name, plan)
			}
		}
	})
}
