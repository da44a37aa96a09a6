package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/queueing"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench engine | e2e",
		Short: "Measure simulator throughput and print JSON",
		Example: `  sbmpsim bench engine --hold-sizes 1000,100000
  sbmpsim bench e2e                        # the embedded steady scenario`,
	}
	cmd.AddCommand(newBenchEngineCmd(), newBenchE2ECmd())
	return cmd
}

// E2EBench is the JSON `sbmpsim bench e2e` prints.
type E2EBench struct {
	Scenario string `json:"scenario"`
	// SimAllocsPerS is simulated allocations plus frees per wall second on
	// the default scenario, one core.
	SimAllocsPerS float64 `json:"sim_allocs_per_s"`
	SimEventsPerS float64 `json:"sim_events_per_s"`
	AllocsFrees   uint64  `json:"allocs_plus_frees"`
	WallS         float64 `json:"wall_s"`
	// BytesPerLiveObject is the Go heap in use per live simulated object,
	// with LiveObjects objects live at the end of a run that only
	// allocates (the engine's pending frees, SBMP's slabs and the kernel
	// model's page state all count).
	BytesPerLiveObject float64 `json:"bytes_per_live_object"`
	LiveObjects        int64   `json:"live_objects"`
}

// benchE2EScenario is what bench e2e times by default: a steady state
// where SBMP's fast path does the work. (The default scenario spends its
// time in the kernel model's page allocator once the OOM chain starts.)
const benchE2EScenario = "steady"

func newBenchE2ECmd() *cobra.Command {
	var live int64
	var name string
	var sets []string
	cmd := &cobra.Command{
		Use:   "e2e [SCENARIO] [--set KEY=VALUE]...",
		Short: "Time the whole simulator on a scenario (default " + benchE2EScenario + "), and its memory per live object",
		Example: `  sbmpsim bench e2e
  sbmpsim bench e2e oom-crisis --set run.duration_ms=10000
  sbmpsim bench e2e steady --live-objects 200000`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeScenario,
		Annotations:       map[string]string{defaultScenarioKey: benchE2EScenario},
		RunE: func(cmd *cobra.Command, args []string) error {
			prev := runtime.GOMAXPROCS(1)
			defer runtime.GOMAXPROCS(prev)
			arg, err := scenarioArg(args, name)
			if err != nil {
				return err
			}
			if arg != "" {
				args = []string{arg}
			}
			sc, err := loadScenario(cmd, args, sets, 0)
			if err != nil {
				return err
			}
			runtime.GC()
			start := time.Now()
			res, err := world.Run(cmd.Context(), sc, world.Options{})
			if err != nil {
				return err
			}
			wall := time.Since(start).Seconds()
			out := E2EBench{Scenario: sc.Run.Name, AllocsFrees: res.Summary.Allocs + res.Summary.Frees, WallS: wall}
			out.SimAllocsPerS = float64(out.AllocsFrees) / wall
			out.SimEventsPerS = float64(res.Summary.Events) / wall
			res = nil
			if out.BytesPerLiveObject, out.LiveObjects, err = bytesPerLiveObject(sc, live); err != nil {
				return err
			}
			b, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
			return err
		},
	}
	cmd.Flags().Int64Var(&live, "live-objects", 1_000_000, "live objects for the memory measurement")
	setFlag(cmd, &sets, "override a scenario key (repeatable)")
	deprecatedScenarioFlag(cmd, &name, "sbmpsim bench e2e SCENARIO")
	return cmd
}

// bytesPerLiveObject measures the memory each additional live object
// costs: it runs the scenario's machine with one workload that
// allocates n/2 and then n 64-byte objects over one simulated second, each
// living far longer than the run (so it holds its pending free, as any
// long-lived object does), and divides the difference in Go heap in use
// at the end of the two runs by the difference in live objects. The fixed
// cost of the machine model (per-page state) cancels out.
func bytesPerLiveObject(base *scenario.Scenario, n int64) (float64, int64, error) {
	heapAt := func(objects int64) (uint64, int64, error) {
		sc := base.Clone()
		for _, s := range []string{
			"run.duration_ms=1000",
			fmt.Sprintf(`workload=[{name="live", cpus="0-31", rate_per_s=%d, size_bytes=64, lifetime_mean_ms=1e6}]`, objects),
		} {
			if err := sc.Set(s); err != nil {
				return 0, 0, err
			}
		}
		if err := sc.Validate(); err != nil {
			return 0, 0, err
		}
		var ms runtime.MemStats
		runtime.GC()
		res, err := world.Run(context.Background(), sc, world.Options{AtEnd: func() {
			runtime.GC()
			runtime.ReadMemStats(&ms)
		}})
		if err != nil {
			return 0, 0, err
		}
		return ms.HeapInuse, res.Summary.ObjectsLiveEnd, nil
	}
	h1, l1, err := heapAt(n / 2)
	if err != nil {
		return 0, 0, err
	}
	h2, l2, err := heapAt(n)
	if err != nil {
		return 0, 0, err
	}
	return float64(int64(h2)-int64(h1)) / float64(l2-l1), l2, nil
}

// EngineBench is the JSON `sbmpsim bench engine` prints.
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
	EngineVsTight float64 `json:"mm1_engine_vs_tight"`
	GoVersion     string  `json:"go_version"`
	GOMAXPROCS    int     `json:"gomaxprocs"`
}

func newBenchEngineCmd() *cobra.Command {
	var (
		sizes     []int
		customers int
		holds     int
		seed      uint64
	)
	cmd := &cobra.Command{
		Use: "engine",
		Example: `  sbmpsim bench engine
  sbmpsim bench engine --hold-sizes 1000 --holds 200000 --mm1-customers 100000`,
		Short: "Time the event engine: the hold model per queue size, and an M/M/1 queue (rho 0.9) against the same model as a tight single-purpose loop",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if customers < 1 || holds < 1 {
				return usageError{fmt.Errorf("--mm1-customers and --holds must be at least 1")}
			}
			// One core: the engine is single-threaded, and this keeps the
			// garbage collector off the other core too.
			prev := runtime.GOMAXPROCS(1)
			defer runtime.GOMAXPROCS(prev)
			res := EngineBench{HoldNsPerOp: map[string]float64{}, GoVersion: runtime.Version(), GOMAXPROCS: 1}
			for _, n := range sizes {
				if n <= 0 {
					continue
				}
				ns, err := benchHold(n, holds, seed)
				if err != nil {
					return err
				}
				res.HoldNsPerOp[strconv.Itoa(n)] = ns
			}
			if err := benchMM1(&res, customers, seed); err != nil {
				return err
			}
			b, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
			return err
		},
	}
	fl := cmd.Flags()
	fl.IntSliceVar(&sizes, "hold-sizes", []int{1_000, 100_000, 1_000_000}, "pending-event counts for the hold model (0 skips it)")
	fl.IntVar(&holds, "holds", 3_000_000, "timed holds per size, after a warm-up of 4 holds per pending event")
	fl.IntVar(&customers, "mm1-customers", 1_000_000, "customers served in the M/M/1 runs")
	seedVar(fl, &seed, 1, "seed of the engine's random streams")
	return cmd
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

func benchMM1(res *EngineBench, customers int, seed uint64) error {
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
	res.MM1Customers = customers
	res.MM1CustomersPerS = float64(customers) / wall
	res.MM1EventsPerS = float64(r.Events) / wall
	res.MM1WqMean = r.WqMeanNs / meanServiceNs

	runtime.GC()
	start = time.Now()
	tr := queueing.TightMMc(cfg)
	res.MM1TightWqMean = tr.WqMeanNs / meanServiceNs
	res.MM1TightCustomersPerS = float64(customers) / time.Since(start).Seconds()
	res.EngineVsTight = res.MM1CustomersPerS / res.MM1TightCustomersPerS
	return nil
}
