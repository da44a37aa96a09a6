package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/sbmpsim/sbmpsim/sbmp"
)

// Colors of the memory kinds, bottom of the stack first, and of the tiers.
var (
	memColors  = []tcell.Color{tcell.ColorIndianRed, tcell.ColorMediumPurple, tcell.ColorSteelBlue, tcell.ColorDarkGreen}
	memNames   = []string{"anon", "kernel+SBMP", "page cache", "free"}
	tierColors = []tcell.Color{tcell.ColorGreen, tcell.ColorYellow, tcell.ColorRed}
)

// fsmGlyphs are the one-letter names of the FSM states, in State order.
var fsmGlyphs = [sbmp.NumStates]rune{'I', 'L', 'S', 'A', 'M'}
var fsmColors = [sbmp.NumStates]tcell.Color{tcell.ColorGray, tcell.ColorYellow, tcell.ColorBlue, tcell.ColorGreen, tcell.ColorFuchsia}

// printer writes lines of tview-tagged text into a rectangle, clipping at
// its bottom.
type printer struct {
	scr        tcell.Screen
	x, y, w, h int
	row        int
}

// newPrinter clears the rectangle and returns a printer for it.
func newPrinter(scr tcell.Screen, x, y, w, h int) *printer {
	for row := range h {
		for c := range w {
			scr.SetContent(x+c, y+row, ' ', nil, tcell.StyleDefault)
		}
	}
	return &printer{scr: scr, x: x, y: y, w: w, h: h}
}

// line prints one line and moves down; it reports whether it fitted.
func (p *printer) line(format string, args ...any) bool {
	if p.row >= p.h {
		return false
	}
	text := fmt.Sprintf(format, args...)
	for c := range p.w { // clear the row first
		p.scr.SetContent(p.x+c, p.y+p.row, ' ', nil, tcell.StyleDefault)
	}
	tview.Print(p.scr, text, p.x, p.y+p.row, p.w, tview.AlignLeft, tcell.ColorWhite)
	p.row++
	return true
}

// left is the rows not yet used.
func (p *printer) left() int { return p.h - p.row }

// drawRun draws the run view for r (nil before the first run).
func drawRun(scr tcell.Screen, x, y, w, h int, r *runState) {
	p := newPrinter(scr, x, y, w, h)
	if r == nil {
		p.line("[::b]No run yet.[::-] Ctrl-R runs the scenario in the editor; F2 goes back to it.")
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	state := r.status.String()
	switch r.status {
	case runRunning:
		state = "[yellow]running[-]"
	case runDone:
		state = fmt.Sprintf("[green]finished[-] in %.2f s wall", r.wall.Seconds())
	case runFailed:
		state = "[red]failed[-]"
	}
	p.line("[::b]%s[::-] seed %d   t = %.3f / %.3f s   %s", tview.Escape(r.name), r.seed, float64(r.nowNs)/1e9, float64(r.durationNs)/1e9, state)

	l := layoutRun(p, r)
	c := chartArea{scr: scr, x: x, y: y, cw: max(1, w-runLabel), span: float64(r.durationNs) / 1e9}
	drawMemory(p, c, r, l)
	drawTiers(p, c, r, l.tierH)
	for _, pv := range r.procs {
		drawProc(p, &pv)
	}
	drawOOMKills(p, r)
	drawEnd(p, r)
}

// runLabel is the width of the labels left of the run view's charts.
const runLabel = 9

// chartArea is where the run view's charts go: the screen, the view's
// origin, the charts' width and the simulated seconds they span.
type chartArea struct {
	scr  tcell.Screen
	x, y int
	cw   int
	span float64
}

// runLayout is how the run view shares its rows: memory chart rows per
// node, the tier chart's rows, and how many nodes get a line of figures.
type runLayout struct {
	memH, tierH int
	valueRows   int
}

// layoutRun shares p's rows among the charts. The memory charts (one
// per node) and the tier chart share what the fixed lines leave; the
// per-node figures are the first thing to go when the terminal is short
// (the charts show the same), so that the OOM kills and the summary
// always fit.
func layoutRun(p *printer, r *runState) runLayout {
	oomRows := max(1, min(len(r.oom), 3))
	endRows := 0
	if r.status == runDone || r.status == runFailed {
		endRows = 3
	}
	fixed := 1 + 1 + 1 + 3*len(r.procs) + oomRows + endRows
	l := runLayout{memH: 1, tierH: 1, valueRows: len(r.nodes)}
	if p.left()-fixed-len(r.nodes)-1 < l.valueRows {
		l.valueRows = 0
	}
	fixed += l.valueRows
	spare := max(0, p.left()-fixed+1)
	if len(r.nodes) > 0 {
		l.memH = max(1, spare*2/3/len(r.nodes))
		l.tierH = max(1, spare-l.memH*len(r.nodes))
	}
	return l
}

// drawMemory draws memory by kind per node: a stacked chart each, then
// the latest figures of the nodes the layout has room for.
func drawMemory(p *printer, c chartArea, r *runState, l runLayout) {
	legend := make([]string, len(memNames))
	for k := len(memNames) - 1; k >= 0; k-- {
		legend[len(memNames)-1-k] = fmt.Sprintf("[%s]█[-] %s", colorTag(memColors[k]), memNames[k])
	}
	p.line("[::b]Memory by kind per node[::-] (MiB)  %s", strings.Join(legend, "  "))
	for _, n := range r.nodes {
		start := p.row
		for hr := range l.memH {
			lab := ""
			switch hr {
			case 0:
				lab = fmt.Sprintf("node %d", n.id)
			case l.memH - 1:
				lab = fmt.Sprintf("%.0f", n.managed)
			}
			if !p.line("%-*s", runLabel, lab) {
				break
			}
		}
		if rows := p.row - start; rows > 0 {
			stackedArea(c.scr, c.x+runLabel, c.y+start, c.cw, rows, r.ts, c.span, [][]float64{n.anon, n.rest, n.file, n.free}, memColors, n.managed)
		}
	}
	for _, n := range r.nodes[:l.valueRows] {
		if len(n.free) == 0 {
			break
		}
		i := len(n.free) - 1
		p.line("  node %d: free %.1f  page cache %.1f  anon %.1f  kernel+SBMP %.1f  of %.0f MiB", n.id, n.free[i], n.file[i], n.anon[i], n.rest[i], n.managed)
	}
}

// drawTiers draws SBMP's allocations per second by tier on a log scale,
// over rows rows.
func drawTiers(p *printer, c chartArea, r *runState, rows int) {
	var rates [3]float64
	logs := make([][]float64, 3)
	top := 1.0
	for k := range 3 {
		if s := r.tierRate[k]; len(s) > 0 {
			rates[k] = s[len(s)-1]
		}
		logs[k] = make([]float64, len(r.tierRate[k]))
		for i, v := range r.tierRate[k] {
			logs[k][i] = math.Log10(1 + math.Max(v, 0))
			top = math.Max(top, logs[k][i])
		}
	}
	p.line("[::b]SBMP allocations/s by tier[::-] (log scale)  [%s]━[-] tier0 %s  [%s]━[-] tier1 %s  [%s]━[-] tier2 %s",
		colorTag(tierColors[0]), si(rates[0]), colorTag(tierColors[1]), si(rates[1]), colorTag(tierColors[2]), si(rates[2]))
	start := p.row
	for hr := range rows {
		lab := ""
		switch hr {
		case 0:
			lab = si(math.Pow(10, top)) + "/s"
		case rows - 1:
			lab = "0"
		}
		if !p.line("%-*s", runLabel, lab) {
			break
		}
	}
	if n := p.row - start; n > 0 {
		lineChart(c.scr, c.x+runLabel, c.y+start, c.cw, n, r.ts, c.span, logs, tierColors, top)
	}
}

// drawOOMKills lists the first three OOM kills, or says there was none.
func drawOOMKills(p *printer, r *runState) {
	if len(r.oom) == 0 {
		if r.status == runRunning {
			p.line("no OOM kill yet")
		} else {
			p.line("no OOM kill")
		}
	}
	for i, e := range r.oom {
		if i == 3 && len(r.oom) > 3 {
			p.line("… and %d more OOM kills", len(r.oom)-3)
			break
		}
		p.line("[red]%s[-]", tview.Escape(oomLine(e)))
	}
}

// drawEnd draws how the run ended: the first lines of its error, or its
// summary.
func drawEnd(p *printer, r *runState) {
	switch {
	case r.status == runFailed:
		for i, l := range strings.Split(r.err.Error(), "\n") {
			if i == 3 {
				break
			}
			p.line("[red]%s[-]", tview.Escape(l))
		}
	case r.summary != nil:
		s := r.summary
		p.line("[::b]Summary[::-] allocs %d frees %d [::b]failed %d[::-]  stall %.3f s  latency p50 %d p99 %d ns  footprint peak %.1f MiB",
			s.Allocs, s.Frees, s.AllocFailures, float64(s.AllocStallNs)/1e9, s.AllocLatencyNs.P50, s.AllocLatencyNs.P99, float64(s.FootprintPeakBytes)/(1<<20))
		fb, de := int64(0), int64(0)
		if s.SBMP != nil {
			fb, de = s.SBMP.Tier2Fallbacks, s.SBMP.DegradeEntries
		}
		p.line("  tiers %d / %d / %d  fallbacks %d  degrade entries %d  OOM kills %d  PSI some %.2f s full %.2f s",
			s.TierAllocs.Tier0, s.TierAllocs.Tier1, s.TierAllocs.Tier2, fb, de, s.OOMKills,
			float64(s.MemoryPressure.SomeTotalUs)/1e6, float64(s.MemoryPressure.FullTotalUs)/1e6)
		sli := "none met degrade"
		if d := s.DegradeSLI; d != nil && d.Rate != nil {
			sli = fmt.Sprintf("%d/%d unharmed (%.1f %%, %s)", d.Unharmed, d.Met, 100**d.Rate, d.Policy)
		}
		p.line("  degrade SLI %s  %d events, trace %s", sli, s.Events, s.TraceHash)
	}
}

// drawProc draws one SBMP process: its Tier-0 heat strip, its CPUs' FSM
// states, and its degrade state and alerts.
func drawProc(p *printer, v *procView) {
	const label = runLabel
	name := v.name
	if v.dead {
		name += " (dead)"
	}
	if p.line("%-*.*s", label, label-1, tview.Escape(name)) {
		row := p.y + p.row - 1
		var sum int
		for c, f := range v.tier0Free {
			if label+c >= p.w {
				break
			}
			sum += f
			col := tcell.ColorGreen
			switch {
			case f < sbmp.Tier0FreeAvgDanger:
				col = tcell.ColorRed
			case f <= sbmp.Tier0FreeAvgSafe:
				col = tcell.ColorYellow
			}
			ch := '·'
			if f > 0 {
				ch = eighths[1+min(7, f*7/64)]
			}
			p.scr.SetContent(p.x+label+c, row, ch, nil, tcell.StyleDefault.Foreground(col))
		}
		if n := len(v.tier0Free); n > 0 && label+n+2 < p.w {
			tview.Print(p.scr, fmt.Sprintf("Tier-0 free/CPU (%d in all); SBMP holds %.1f MiB", sum, v.heldMiB),
				p.x+label+n+1, row, p.w-label-n-1, tview.AlignLeft, tcell.ColorWhite)
		}
	}
	if p.line("%-*s", label, "  FSM") {
		row := p.y + p.row - 1
		var counts [sbmp.NumStates]int
		for c, s := range v.fsm {
			if s >= sbmp.NumStates {
				continue
			}
			counts[s]++
			if label+c < p.w {
				p.scr.SetContent(p.x+label+c, row, fsmGlyphs[s], nil, tcell.StyleDefault.Foreground(fsmColors[s]))
			}
		}
		var parts []string
		for s := range sbmp.NumStates {
			if counts[s] > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", s, counts[s]))
			}
		}
		if n := len(v.fsm); label+n+2 < p.w {
			tview.Print(p.scr, strings.Join(parts, " "), p.x+label+n+1, row, p.w-label-n-1, tview.AlignLeft, tcell.ColorWhite)
		}
	}
	deg := "[green]no[-]"
	if v.degraded {
		deg = "[red]DEGRADED[-]"
	}
	var al []string
	for _, a := range v.alerts {
		if a.Metric == "" {
			continue
		}
		col := "green"
		switch a.Level {
		case sbmp.AlertWarning:
			col = "yellow"
		case sbmp.AlertDanger:
			col = "red"
		}
		al = append(al, fmt.Sprintf("[%s]%s %s[-]", col, a.Metric, trim(a.Value)))
	}
	if len(al) == 0 {
		al = []string{"none sampled yet"}
	}
	p.line("  degraded %s, %d entries, %d fallbacks, %d failed │ alerts: %s", deg, v.degradeEntries, v.fallbacks, v.failures, strings.Join(al, " "))
}

// colorTag is c as a tview color tag.
func colorTag(c tcell.Color) string { return fmt.Sprintf("#%06x", c.Hex()) }

// si formats a rate with an SI prefix.
func si(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// trim formats v with at most one decimal.
func trim(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
