package scenario

import (
	"slices"
	"strconv"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/policies"
)

// TestKeysAreSettable: every key Keys offers on every embedded scenario is
// one Set resolves, and the keys scripts use most are among them.
func TestKeysAreSettable(t *testing.T) {
	for _, name := range scenarios.Names() {
		s, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		keys := s.Keys()
		for _, k := range keys {
			if _, _, err := s.resolve(k); err != nil {
				t.Errorf("%s: Keys offers %q, which Set refuses: %v", name, k, err)
			}
		}
		want := []string{"run.seed", "kernel.swappiness", "machine.preset", "policy.merge", "output.sample_interval_ms"}
		for i := range s.Workloads {
			want = append(want, "workload", "workload."+strconv.Itoa(i)+".kind")
		}
		want = append(want, policies.ParamKeys()...)
		for _, w := range want {
			if !slices.Contains(keys, w) {
				t.Errorf("%s: Keys lacks %q", name, w)
			}
		}
		if slices.Contains(keys, "workload."+strconv.Itoa(len(s.Workloads))+".kind") {
			t.Errorf("%s: Keys offers a workload index past the %d workloads", name, len(s.Workloads))
		}
	}
}
