package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

type statsFlags struct {
	seed uint64
	sets []string
	at   simTimeFlag
}

func newStatsCmd() *cobra.Command {
	var f statsFlags
	cmd := &cobra.Command{
		Use:   "stats [SCENARIO] [--at TIME] [--seed S] [--set KEY=VALUE]...",
		Short: "Run a scenario and print SBMP's state in the debugfs format of SPEC 1.4 (/sys/kernel/debug/sbmp/stats)",
		Long: `Run a scenario (a file or an embedded name; default: the embedded oom-crisis)
and print SBMP's state as /sys/kernel/debug/sbmp/stats shows it (SPEC 1.4):
Tier-0 free slots per CPU, Tier-1 blocks per node, the FSM, the counters and
the alerts of the first process that allocates through SBMP.

Which moment: --at TIME shows the state at simulated time TIME (50s,
54246ms, 1m30s, or a whole number of nanoseconds), --at end at the end of
the run. By default it is the end of the run or, when the run has an OOM
kill, the last moment before the first one (1 ns before it): a kill frees
the victim's memory, and an allocator whose process was killed shows all
zeros, which says nothing about how it got there. The first line, a
comment starting with '#', says which moment is shown and why.`,
		Example: `  sbmpsim stats                        # oom-crisis, just before its first OOM kill
  sbmpsim stats --at 50s               # the same run at 50 s of simulated time
  sbmpsim stats steady --at end --seed 3
  sbmpsim stats --at 54246603496 --set kernel.swappiness=60`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeScenario,
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := loadScenario(cmd, args, f.sets, f.seed)
			if err != nil {
				return err
			}
			return runStats(cmd.Context(), cmd.OutOrStdout(), sc, f.at)
		},
	}
	fl := cmd.Flags()
	seedVar(fl, &f.seed, 0, "master seed (overrides run.seed)")
	setFlag(cmd, &f.sets, "override a scenario key (repeatable)")
	fl.Var(&f.at, "at", "simulated time to show the state at: 50s, 54246ms, NANOSECONDS, or end (default: just before the first OOM kill, else the end)")
	return cmd
}

// runStats runs sc up to the moment at says (see stats --help) and prints
// the comment line that names it, then SBMP's debugfs text.
func runStats(ctx context.Context, w io.Writer, sc *scenario.Scenario, at simTimeFlag) error {
	endNs := sc.Run.DurationMs * int64(time.Millisecond)
	if at.ns > endNs {
		return usageError{fmt.Errorf("--at %s: past the end of the run at %s (run.duration_ms = %d)", at.text, simTime(endNs), sc.Run.DurationMs)}
	}
	run := func(stopNs int64) (*world.Result, error) {
		res, err := world.Run(ctx, sc, world.Options{StopAtNs: stopNs})
		if err == nil && res.Summary.SBMP == nil {
			err = usageError{fmt.Errorf("scenario %s has no workload that allocates through SBMP: it has no SBMP state to show", sc.Run.Name)}
		}
		return res, err
	}
	res, err := run(at.ns)
	if err != nil {
		return err
	}
	var why string
	first := res.Summary.FirstOOMNs()
	switch {
	case at.ns > 0 && first >= 0:
		why = fmt.Sprintf("the time --at asks for, after the first OOM kill (at %s)", simTime(first))
	case at.ns > 0:
		why = "the time --at asks for"
	case at.end && first >= 0:
		why = fmt.Sprintf("the end of the run (--at end), after %d OOM kill(s), the first at %s", res.Summary.OOMKills, simTime(first))
	case at.end, first < 2:
		why = "the end of the run"
		if first >= 0 {
			why += fmt.Sprintf(" (its first OOM kill is at %s)", simTime(first))
		}
	default:
		e := res.Summary.OOMEvents[0]
		if res, err = run(first - 1); err != nil {
			return err
		}
		why = fmt.Sprintf("1 ns before the first OOM kill (%s, %s, at %s); --at end shows the end of the run", e.VictimComm, e.Scope, simTime(first))
	}
	fmt.Fprintf(w, "# sbmpsim stats: %s seed %d at %s: %s\n", sc.Run.Name, sc.Run.Seed, simTime(res.Summary.SimTimeNs), why)
	_, err = fmt.Fprint(w, res.Summary.SBMP.Debugfs)
	return err
}

// simTime formats a simulated time in nanoseconds as a duration: 54.246603497s.
func simTime(ns int64) string { return time.Duration(ns).String() }

// simTimeFlag is the value of stats --at: a simulated time (ns > 0), or
// the end of the run (end), or neither when not given; text is as given.
type simTimeFlag struct {
	ns   int64
	end  bool
	text string
}

func (t *simTimeFlag) String() string {
	switch {
	case t.end:
		return "end"
	case t.ns > 0:
		return simTime(t.ns)
	}
	return ""
}

func (t *simTimeFlag) Type() string { return "TIME" }

func (t *simTimeFlag) Set(v string) error {
	if v == "end" {
		*t = simTimeFlag{end: true, text: v}
		return nil
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil && strings.TrimLeft(v, "0123456789") != "" {
		var d time.Duration
		d, err = time.ParseDuration(v)
		ns = int64(d)
	}
	if err != nil || ns <= 0 {
		return fmt.Errorf("want a simulated time after 0 such as 50s, 54246ms or 54246603497 (nanoseconds), or end; got %q", v)
	}
	*t = simTimeFlag{ns: ns, text: v}
	return nil
}
