package transfer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/sweep"
)

// sweepFile writes g as a sweep file (experiments/input/sweeps/README.md):
// `sbmpsim sweep` of it plans the same sweep as sweep.NewGridPlan(g),
// hash included, so one size's runs can be done apart from the
// experiment, resumed after an interruption and split into shards. The
// axis values are written as the TOML text they already are; Scale
// writes numbers and arrays of numbers only.
func sweepFile(g sweep.Grid, cmd string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\nname = %q\nscenario = %q\nseeds = %d\nseed = %d\n", cmd, g.Name, g.Scenario, g.Seeds, g.SeedFirst)
	if len(g.Set) > 0 {
		b.WriteString("set = [" + quoted(g.Set) + "]\n")
	}
	for _, a := range g.Axes {
		b.WriteString("\n[[axis]]\nkeys = [" + quoted(a.Keys) + "]\nvalues = [\n")
		for _, v := range a.Values {
			b.WriteString("  [" + strings.Join(v, ", ") + "],\n")
		}
		b.WriteString("]\n")
	}
	return []byte(b.String())
}

// quoted joins strings as TOML basic strings.
func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
