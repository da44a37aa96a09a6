package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/output"
)

// BenchAll is the JSON `sbmpsim bench all` prints: bench engine's and
// bench e2e's, from one invocation.
type BenchAll struct {
	Schema string       `json:"schema"`
	Engine *EngineBench `json:"engine"`
	E2E    *E2EBench    `json:"e2e"`
}

func newBenchAllCmd() *cobra.Command {
	var (
		ef  engineFlags
		f   e2eFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "all [SCENARIO]... [--out FILE]",
		Short: "Run bench engine and bench e2e; with --out, also write Go's benchmark format for benchstat",
		Long: `Run bench engine and bench e2e (--count samples of each) and print both as
JSON. --out FILE also writes the samples in Go's benchmark format, one
line per sample (BenchmarkHold/pending=N, BenchmarkMM1/engine and /tight,
BenchmarkE2E/SCENARIO, BenchmarkLiveObject/SCENARIO), so that two builds
compare with benchstat:

  git checkout OLD && go run ./cmd/sbmpsim bench all --out old.txt
  git checkout NEW && go run ./cmd/sbmpsim bench all --out new.txt
  benchstat old.txt new.txt

The build's version is a comment line of the file, not a configuration
line: benchstat would put each build in a table of its own.`,
		Example: `  sbmpsim bench all --out new.txt
  sbmpsim bench all steady --count 10 --hold-sizes 100000 --out steady.txt`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeScenarios,
		Annotations:       map[string]string{defaultScenarioKey: benchE2EScenario},
		RunE: func(cmd *cobra.Command, args []string) error {
			jobs, err := f.jobs(cmd, args)
			if err != nil {
				return err
			}
			// A bad --out fails now, not after minutes of timing.
			if dir := filepath.Dir(out); out != "" {
				if st, err := os.Stat(dir); err != nil || !st.IsDir() {
					return usageError{fmt.Errorf("--out %s: no directory %s to write it in", out, dir)}
				}
			}
			ef.count = f.count
			eng, err := runEngine(&ef)
			if err != nil {
				return err
			}
			e2e, err := runE2E(cmd.Context(), jobs, &f, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if out != "" {
				var b bytes.Buffer
				if _, err := benchTextOf(&ef, eng, e2e).WriteTo(&b); err != nil {
					return err
				}
				if err := output.WriteFileAtomic(out, b.Bytes()); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
			}
			return printJSON(cmd, BenchAll{Schema: "sbmpsim.bench-all/v1", Engine: eng, E2E: e2e})
		},
	}
	ef.define(cmd, 0)
	f.define(cmd)
	cmd.Flags().StringVar(&out, "out", "", "also write the samples in Go's benchmark format to `FILE`")
	return cmd
}

// benchUnits are the custom units benchTextOf writes, and which way is
// better.
var benchUnits = []benchUnit{
	{"ops/s", "higher"}, {"events/s", "higher"}, {"customers/s", "higher"},
	{"heap-B/sim-GiB", "lower"}, {"heap-end-B/sim-GiB", "lower"}, {"B/live-object", "lower"},
}

// benchTextOf lays the samples of one bench all out in Go's benchmark
// format. An E2E line's iterations are the allocations+frees timed (the
// events, for a scenario without SBMP workloads) and its ns/op the wall
// time per allocation or free; a hold line's are the
// holds; an M/M/1 line's the customers.
func benchTextOf(ef *engineFlags, eng *EngineBench, e2e *E2EBench) *benchText {
	t := &benchText{Config: benchHeader(), Units: benchUnits}
	add := func(name string, iters int64, m ...benchMetric) {
		t.Lines = append(t.Lines, benchLine{Name: name, Procs: eng.GOMAXPROCS, Iters: iters, Metrics: m})
	}
	sizes := make([]int, 0, len(eng.HoldNsPerOp))
	for k := range eng.HoldNsPerOp {
		n, _ := strconv.Atoi(k) // written by runEngine from an int
		sizes = append(sizes, n)
	}
	sort.Ints(sizes)
	for _, s := range eng.Samples {
		for _, n := range sizes {
			add(fmt.Sprintf("Hold/pending=%d", n), int64(ef.holds), benchMetric{s.HoldNsPerOp[strconv.Itoa(n)], "ns/op"})
		}
		add("MM1/engine", int64(eng.MM1Customers), benchMetric{1e9 / s.MM1CustomersPerS, "ns/op"},
			benchMetric{s.MM1CustomersPerS, "customers/s"}, benchMetric{s.MM1EventsPerS, "events/s"})
		add("MM1/tight", int64(eng.MM1Customers), benchMetric{1e9 / s.MM1TightCustomersPerS, "ns/op"},
			benchMetric{s.MM1TightCustomersPerS, "customers/s"})
	}
	for _, sc := range e2e.Scenarios {
		name := "E2E/" + benchName(sc.Scenario)
		// A scenario with no SBMP workload counts its events instead.
		iters := int64(sc.AllocsPlusFrees)
		if iters == 0 {
			iters = sc.Events
		}
		for _, s := range sc.Samples {
			m := []benchMetric{{s.WallS * 1e9 / float64(max(iters, 1)), "ns/op"}}
			if sc.AllocsPlusFrees > 0 {
				m = append(m, benchMetric{s.AllocsFreesPerS, "ops/s"})
			}
			m = append(m, benchMetric{s.EventsPerS, "events/s"})
			if sc.MachineGiB > 0 {
				m = append(m, benchMetric{float64(s.HeapBytes) / sc.MachineGiB, "heap-B/sim-GiB"},
					benchMetric{float64(s.HeapEndBytes) / sc.MachineGiB, "heap-end-B/sim-GiB"})
			}
			add(name, max(iters, 1), m...)
		}
	}
	if e2e.LiveObjects > 0 {
		add("LiveObject/"+benchName(e2e.LiveObjectsScenario), e2e.LiveObjects, benchMetric{e2e.BytesPerLiveObject, "B/live-object"})
	}
	return t
}
