package validate

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/real"
)

// A real run's memory stall figures are the whole host's, weighted by
// each CPU's non-idle time (kernel/sched/psi.c, collect_percpu_times):
// work on the host besides the run's dilutes them (real.HostCPU). So the
// suite waits for a quiet host before each real run, records how busy
// the host was during it, and says so where a stall figure misses on a
// busy host.

// busyOthersCPUs is where a host counts as busy: a quarter of a CPU of
// work that is not the suite's. Measured on this project's 2-CPU host: a
// quiet host shows 0.010 CPUs over a second before a run and 0.08 during
// one (the kworkers that serve the run's I/O among them); one process
// spinning beside the run shows 1.09.
const busyOthersCPUs = 0.25

// quietProbe is how long each look at the host lasts, and quietPatience
// how long the suite waits for quiet before a run; once it has waited
// that long in vain it stops waiting for the rest of the suite (the host
// stays busy: the figures say so, run by run).
const (
	quietProbe    = time.Second
	quietPatience = 60 * time.Second
)

// quietWait waits for a quiet host before each real run.
type quietWait struct {
	// measure is real.OthersBusy (a test replaces it).
	measure func(ctx context.Context, d time.Duration) (float64, error)
	gaveUp  bool
}

func newQuietWait() *quietWait { return &quietWait{measure: real.OthersBusy} }

// wait returns once the host is quiet, after quietPatience of waiting,
// or at once when an earlier wait gave up or the host's CPU time cannot
// be read. Only ctx's end is an error.
func (q *quietWait) wait(ctx context.Context, log io.Writer) error {
	if q == nil || q.gaveUp {
		return nil
	}
	for waited := time.Duration(0); ; waited += quietProbe {
		busy, err := q.measure(ctx, quietProbe)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			fmt.Fprintf(log, "validate: cannot tell whether the host is quiet (%v); going on\n", err)
			q.gaveUp = true
			return nil
		}
		if busy <= busyOthersCPUs {
			if waited > 0 {
				fmt.Fprintf(log, "validate: the host is quiet after %.0f s (%.2f CPUs of other work)\n", (waited + quietProbe).Seconds(), busy)
			}
			return nil
		}
		if waited == 0 {
			fmt.Fprintf(log, "validate: the host is busy with other work (%.2f CPUs, more than %.2f): its memory stall figures are the whole host's, so waiting up to %.0f s for quiet\n", busy, busyOthersCPUs, quietPatience.Seconds())
		}
		if waited+quietProbe >= quietPatience {
			fmt.Fprintf(log, "validate: the host stayed busy (%.2f CPUs of other work); the runs go ahead, each with how busy the host was\n", busy)
			q.gaveUp = true
			return nil
		}
	}
}

// hostBusyMechanism explains a stall figure that misses while the host
// was busy during the case's real runs (median others CPUs above
// busyOthersCPUs), or "".
func hostBusyMechanism(m MetricID, others *float64) string {
	if (m != StallSome && m != StallFull) || others == nil || *others <= busyOthersCPUs {
		return ""
	}
	return fmt.Sprintf("the host was busy with work not of the run (a median %.2f CPUs, where a quiet host shows under 0.1): Linux weights the host-wide PSI by each CPU's non-idle time (kernel/sched/psi.c, collect_percpu_times), so a CPU busy with other work and no stalled task dilutes some and full, while the model's machine-wide figure is a quiet host's. Measured on this project's host with a process spinning beside the runs (1.09 CPUs of other work): some fell from 281 to 158 ms in cache-anon-swappiness0 and from 571 to 324 ms in thrash-hot-cache, every other metric within its tolerance. Run the suite on a quiet host", *others)
}
