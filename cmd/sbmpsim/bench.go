package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
	"github.com/sbmpsim/sbmpsim/internal/queueing"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench engine | e2e | all",
		Short: "Measure simulator throughput: repeated samples, their median and spread, as JSON",
		Example: `  sbmpsim bench engine --hold-sizes 1000,100000
  sbmpsim bench e2e                        # steady, the default scenario and oom-crisis-user, 6 samples each
  sbmpsim bench all --out new.txt          # both, and Go's benchmark format for benchstat`,
	}
	cmd.AddCommand(newBenchEngineCmd(), newBenchE2ECmd(), newBenchAllCmd())
	return cmd
}

// benchE2EScenario is the scenario whose keys bench e2e's --set
// completion offers.
const benchE2EScenario = "steady"

func newBenchE2ECmd() *cobra.Command {
	var f e2eFlags
	var name string
	cmd := &cobra.Command{
		Use:   "e2e [SCENARIO]... [--ops N] [--count K] [--set KEY=VALUE]...",
		Short: "Time the whole simulator on scenarios (default: steady, " + scenarios.Default + ", oom-crisis-user), and its memory",
		Long: `Time the whole simulator, in simulated allocations+frees and events per wall
second, on one core (GOMAXPROCS 1). Each scenario is sampled --count times,
in turn with the others; the JSON gives each sample, the median, least and
greatest, the build (version), and the default scenario's median over
steady's (default_vs_steady).

A sample times the first --ops allocations+frees of the run, from the first
event to the one that does the last of them: building the world and
summarising it are not timed. steady runs for as long as that takes. The
OOM-crisis scenarios (` + scenarios.Default + `, oom-crisis-user) reach their costly part
late (the default scenario's page cache is gone at about 36 s of 60), so
unless --ops is given a sample is their whole run. Every sample of a
scenario runs the same events: its trace_hash says which.

Memory: heap_bytes_per_sim_gib is the Go heap in use once the world is
built, before its first event, less the heap before the run, per GiB of
the simulated machine, and heap_end_bytes_per_sim_gib the same at the end
of the window (page state is kept only where memory has been used, so on
a large machine the end is what counts); bytes_per_live_object is the
heap each more live object costs (measured on the first scenario's
machine).`,
		Example: `  sbmpsim bench e2e
  sbmpsim bench e2e steady --ops 1000000 --count 10
  sbmpsim bench e2e oom-crisis --set run.duration_ms=10000 --count 3
  sbmpsim bench e2e oom-crisis --set machine.node_memory_mb=0 --count 1   # intel-2s at its own 2 x 96 GiB
  sbmpsim bench e2e steady --live-objects 200000`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeScenarios,
		Annotations:       map[string]string{defaultScenarioKey: benchE2EScenario},
		RunE: func(cmd *cobra.Command, args []string) error {
			arg, err := scenarioArg(args, name)
			if err != nil {
				return err
			}
			if len(args) == 0 && arg != "" {
				args = []string{arg}
			}
			jobs, err := f.jobs(cmd, args)
			if err != nil {
				return err
			}
			res, err := runE2E(cmd.Context(), jobs, &f, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return printJSON(cmd, res)
		},
	}
	f.define(cmd)
	deprecatedScenarioFlag(cmd, &name, "sbmpsim bench e2e SCENARIO")
	return cmd
}

// completeScenarios completes every SCENARIO argument of a command that
// takes several.
func completeScenarios(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return completeInput(scenarios.Format(), toComplete)
}

// printJSON prints v, indented, on the command's standard output.
func printJSON(cmd *cobra.Command, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
	return err
}

// EngineBench is the JSON `sbmpsim bench engine` prints. Its figures
// are the medians of Count samples (Samples holds each).
type EngineBench struct {
	// HoldNsPerOp maps a pending-event count to the wall nanoseconds of one
	// hold (run the earliest event, which schedules one more).
	HoldNsPerOp map[string]float64 `json:"hold_ns_per_op"`
	// M/M/1 at rho = 0.9 on the engine: customers served per wall second,
	// events per wall second, and the measured mean wait in queue in units
	// of the mean service time (analytic: 9). The tight figures are the
	// same model as a single-purpose loop (queueing.TightMMc), which
	// computes the same Wq bit for bit.
	MM1Customers          int     `json:"mm1_customers"`
	MM1CustomersPerS      float64 `json:"mm1_customers_per_s"`
	MM1EventsPerS         float64 `json:"mm1_events_per_s"`
	MM1WqMean             float64 `json:"mm1_wq_mean"`
	MM1TightCustomersPerS float64 `json:"mm1_tight_customers_per_s"`
	MM1TightWqMean        float64 `json:"mm1_tight_wq_mean"`
	// EngineVsTight is mm1_customers_per_s / mm1_tight_customers_per_s.
	EngineVsTight float64           `json:"mm1_engine_vs_tight"`
	GoVersion     string            `json:"go_version"`
	GOMAXPROCS    int               `json:"gomaxprocs"`
	Version       buildinfo.Version `json:"version"`
	Count         int               `json:"count"`
	Samples       []EngineSample    `json:"samples"`
}

// EngineSample is one pass over the hold sizes and the M/M/1 runs.
type EngineSample struct {
	HoldNsPerOp           map[string]float64 `json:"hold_ns_per_op"`
	MM1CustomersPerS      float64            `json:"mm1_customers_per_s"`
	MM1EventsPerS         float64            `json:"mm1_events_per_s"`
	MM1TightCustomersPerS float64            `json:"mm1_tight_customers_per_s"`
}

// engineFlags are bench engine's flags; bench all has them too.
type engineFlags struct {
	sizes     []int
	customers int
	holds     int
	seed      uint64
	count     int
}

func (f *engineFlags) define(cmd *cobra.Command, count int) {
	fl := cmd.Flags()
	fl.IntSliceVar(&f.sizes, "hold-sizes", []int{1_000, 100_000, 1_000_000}, "pending-event counts for the hold model (0 skips it)")
	fl.IntVar(&f.holds, "holds", 3_000_000, "timed holds per size, after a warm-up of 4 holds per pending event")
	fl.IntVar(&f.customers, "mm1-customers", 1_000_000, "customers served in the M/M/1 runs")
	seedVar(fl, &f.seed, 1, "seed of the engine's random streams")
	if count > 0 {
		fl.IntVar(&f.count, "count", count, "samples of each measurement")
	}
}

func newBenchEngineCmd() *cobra.Command {
	f := engineFlags{count: 1}
	cmd := &cobra.Command{
		Use: "engine",
		Example: `  sbmpsim bench engine
  sbmpsim bench engine --hold-sizes 1000 --holds 200000 --mm1-customers 100000 --count 5`,
		Short: "Time the event engine: the hold model per queue size, and an M/M/1 queue (rho 0.9) against the same model as a tight single-purpose loop",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := runEngine(&f)
			if err != nil {
				return err
			}
			return printJSON(cmd, res)
		},
	}
	f.define(cmd, 1)
	return cmd
}

// runEngine takes f.count samples of the hold model at every size and
// of the M/M/1 runs, on one core: the engine is single-threaded, and
// this keeps the garbage collector off the other core too.
func runEngine(f *engineFlags) (*EngineBench, error) {
	if f.customers < 1 || f.holds < 1 || f.count < 1 {
		return nil, usageError{fmt.Errorf("--mm1-customers, --holds and --count must be at least 1")}
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	res := &EngineBench{HoldNsPerOp: map[string]float64{}, GoVersion: runtime.Version(), GOMAXPROCS: 1,
		Version: buildinfo.Current(), Count: f.count, MM1Customers: f.customers}
	for range f.count {
		s := EngineSample{HoldNsPerOp: map[string]float64{}}
		for _, n := range f.sizes {
			if n <= 0 {
				continue
			}
			ns, err := benchHold(n, f.holds, f.seed)
			if err != nil {
				return nil, err
			}
			s.HoldNsPerOp[strconv.Itoa(n)] = ns
		}
		if err := benchMM1(res, &s, f.customers, f.seed); err != nil {
			return nil, err
		}
		res.Samples = append(res.Samples, s)
	}
	med := func(get func(EngineSample) float64) float64 {
		xs := make([]float64, len(res.Samples))
		for i, s := range res.Samples {
			xs[i] = get(s)
		}
		return spreadOf(xs).Median
	}
	for k := range res.Samples[0].HoldNsPerOp {
		res.HoldNsPerOp[k] = med(func(s EngineSample) float64 { return s.HoldNsPerOp[k] })
	}
	res.MM1CustomersPerS = med(func(s EngineSample) float64 { return s.MM1CustomersPerS })
	res.MM1EventsPerS = med(func(s EngineSample) float64 { return s.MM1EventsPerS })
	res.MM1TightCustomersPerS = med(func(s EngineSample) float64 { return s.MM1TightCustomersPerS })
	res.EngineVsTight = res.MM1CustomersPerS / res.MM1TightCustomersPerS
	return res, nil
}

func benchHold(pending, holds int, seed uint64) (float64, error) {
	h := queueing.NewHold(pending, 1e6, seed)
	if err := h.Run(4 * pending); err != nil {
		return 0, err
	}
	runtime.GC()
	start := time.Now()
	if err := h.Run(holds); err != nil {
		return 0, err
	}
	return float64(time.Since(start).Nanoseconds()) / float64(holds), nil
}

// benchMM1 times the M/M/1 queue on the engine and as a tight loop into
// s; the mean waits, the same in every sample, go into res.
func benchMM1(res *EngineBench, s *EngineSample, customers int, seed uint64) error {
	const meanServiceNs = 1000.0
	runtime.GC()
	start := time.Now()
	cfg := queueing.MMcConfig{
		Servers: 1, MeanArrivalNs: meanServiceNs / 0.9, MeanServiceNs: meanServiceNs,
		Customers: customers, Seed: seed,
	}
	r, err := queueing.RunMMc(cfg)
	if err != nil {
		return err
	}
	wall := time.Since(start).Seconds()
	s.MM1CustomersPerS = float64(customers) / wall
	s.MM1EventsPerS = float64(r.Events) / wall
	res.MM1WqMean = r.WqMeanNs / meanServiceNs

	runtime.GC()
	start = time.Now()
	tr := queueing.TightMMc(cfg)
	res.MM1TightWqMean = tr.WqMeanNs / meanServiceNs
	s.MM1TightCustomersPerS = float64(customers) / time.Since(start).Seconds()
	return nil
}
