package world

import (
	"context"
	"errors"
	"fmt"

	"github.com/sbmpsim/sbmpsim/sim"
)

// runOps runs s event by event until its SBMP workloads' allocations plus
// frees reach ops, or to endNs (the engine's time limit), and summarises
// the run up to there: Options.StopAfterOps. Stepping event by event runs
// the same events in the same order as RunUntil would.
func runOps(ctx context.Context, s *simulation, endNs, ops int64, atEnd func()) (*Result, error) {
	for {
		if s.eng.Events()%cancelCheckEvents == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("run %s: %w", s.cfg.name, err)
			}
		}
		ran, err := s.eng.Step()
		if err != nil {
			var le *sim.LimitError
			switch {
			case errors.As(err, &le) && le.Limit == "time":
				return finish(s, endNs, atEnd)
			case errors.As(err, &le) && le.Limit == "events":
				return nil, incomplete(s, le)
			}
			return nil, fmt.Errorf("run %s: %w", s.cfg.name, err)
		}
		if !ran {
			return finish(s, endNs, atEnd)
		}
		if int64(s.books.allocs+s.books.frees) >= ops {
			return finish(s, s.eng.Now(), atEnd)
		}
	}
}
