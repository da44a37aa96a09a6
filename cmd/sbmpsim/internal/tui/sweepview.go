package tui

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// defaultSeeds is the seeds view's proposal: enough for an interval of
// about ±0.1 around an OOM probability of one half.
const defaultSeeds = 100

// maxSeeds bounds a seeds run typed into the form.
const maxSeeds = 100_000

// seedOutcome is what the seeds view keeps of one seed's summary.json.
type seedOutcome struct {
	oom        bool
	firstOOMNs int64
	failures   uint64
	stallNs    int64
	p99Ns      int64
}

// seedsState is one seeds run: per arm, the outcome of each seed that has
// finished. Workers write it and the UI reads it, under mu.
type seedsState struct {
	mu      sync.Mutex
	name    string
	first   uint64
	n       int
	workers int
	arms    []string // "as edited", and the B arm's --set
	status  runStatus
	err     error
	started time.Time
	wall    time.Duration
	out     [][]*seedOutcome // [arm][seed index]
	done    []int
	widths  [][]float64 // Wilson interval width after each finished seed
}

func (s *seedsState) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status == runRunning
}

// statusText is the tab bar's word on the run; s.mu held.
func (s *seedsState) statusText() string {
	total := 0
	for _, d := range s.done {
		total += d
	}
	return fmt.Sprintf("%s %d/%d", s.status, total, s.n*len(s.arms))
}

// add records seed i of arm a.
func (s *seedsState) add(a, i int, sum *world.Summary) {
	o := &seedOutcome{oom: sum.OOMKills > 0, failures: sum.AllocFailures, stallNs: sum.AllocStallNs, p99Ns: sum.AllocLatencyNs.P99}
	if o.oom {
		o.firstOOMNs = sum.OOMEvents[0].TimeNs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out[a][i] = o
	s.done[a]++
	k, n := s.count(a)
	if iv, err := stats.WilsonInterval(k, n, 0.95); err == nil {
		s.widths[a] = append(s.widths[a], iv.Hi-iv.Lo)
	}
}

// count is the OOM runs and finished runs of arm a; s.mu held.
func (s *seedsState) count(a int) (k, n int) {
	for _, o := range s.out[a] {
		if o != nil {
			n++
			if o.oom {
				k++
			}
		}
	}
	return k, n
}

// end records how the seeds run ended.
func (s *seedsState) end(err error, stopped bool, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wall = now.Sub(s.started)
	switch {
	case err != nil:
		s.status, s.err = runFailed, err
	case stopped:
		s.status = runStopped
	default:
		s.status = runDone
	}
}

// openSeedsForm asks how many seeds, and for an optional B arm.
func (u *UI) openSeedsForm() {
	sc, ok := u.runnable()
	if !ok {
		return
	}
	form := tview.NewForm()
	form.AddInputField("Seeds", strconv.Itoa(defaultSeeds), 8, tview.InputFieldInteger, nil)
	form.AddInputField("B arm: --set", "", 40, nil, nil)
	form.AddInputField("Workers", strconv.Itoa(u.workers), 4, tview.InputFieldInteger, nil)
	text := func(i int) string { return strings.TrimSpace(form.GetFormItem(i).(*tview.InputField).GetText()) }
	form.AddButton("Start", func() {
		n, err := strconv.Atoi(text(0))
		if err != nil || n < 1 || n > maxSeeds {
			form.SetTitle(fmt.Sprintf(" Seeds: want 1 to %d ", maxSeeds))
			return
		}
		workers, err := strconv.Atoi(text(2))
		if err != nil || workers < 1 || workers > 256 {
			form.SetTitle(" Workers: want 1 to 256 ")
			return
		}
		arms := []*scenario.Scenario{sc}
		if set := text(1); set != "" {
			b := sc.Clone()
			err := b.Set(set)
			if err == nil {
				err = b.Validate()
			}
			if err != nil {
				form.SetTitle(" B arm: " + firstLine(err.Error()) + " ")
				return
			}
			arms = append(arms, b)
		}
		u.closeDialog()
		u.startSeeds(arms, text(1), n, workers)
	})
	form.AddButton("Cancel", u.closeDialog)
	form.SetBorder(true).SetTitle(" Run over seeds (Esc cancels) ")
	u.openDialog("seeds-form", form, 64, 11)
}

// startSeeds runs each arm over n seeds from the scenario's seed on, on
// workers goroutines, seed by seed with the arms interleaved, stopping a
// seeds run already going.
func (u *UI) startSeeds(arms []*scenario.Scenario, bSet string, n, workers int) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &seedsState{name: arms[0].Run.Name, first: arms[0].Run.Seed, n: n, workers: workers,
		arms: []string{"as edited"}, status: runRunning, started: time.Now(),
		out: make([][]*seedOutcome, len(arms)), done: make([]int, len(arms)), widths: make([][]float64, len(arms))}
	if len(arms) > 1 {
		s.arms = append(s.arms, "--set "+bSet)
	}
	for a := range arms {
		s.out[a] = make([]*seedOutcome, n)
	}
	u.mu.Lock()
	if u.seedsCancel != nil {
		u.seedsCancel()
	}
	u.seeds, u.seedsCancel = s, cancel
	u.mu.Unlock()
	u.show(pageSeeds)
	u.setBusyStatus("seeds running; Ctrl-C stops them, F2 edits meanwhile")

	type job struct{ arm, i int }
	jobs := make(chan job)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	fail := func(err error) {
		once.Do(func() { firstErr = err })
		cancel()
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					fail(fmt.Errorf("a run panicked: %v\n%s", p, debug.Stack()))
				}
			}()
			for j := range jobs {
				c := arms[j.arm].Clone()
				c.Run.Seed = s.first + uint64(j.i)
				res, err := u.runFn(ctx, c, world.Options{})
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					fail(fmt.Errorf("%s seed %d: %w", s.arms[j.arm], c.Run.Seed, err))
					return
				}
				s.add(j.arm, j.i, &res.Summary)
				u.dirty.Store(true)
			}
		}()
	}
	go func() {
	feed:
		for i := range n {
			for a := range arms {
				select {
				case jobs <- job{a, i}:
				case <-ctx.Done():
					break feed
				}
			}
		}
		close(jobs)
		wg.Wait()
		stopped := ctx.Err() != nil
		cancel()
		s.end(firstErr, stopped && firstErr == nil, time.Now())
		u.dirty.Store(true)
	}()
}

// drawSeeds draws the seeds view for s (nil before the first seeds run).
func drawSeeds(scr tcell.Screen, x, y, w, h int, s *seedsState) {
	p := newPrinter(scr, x, y, w, h)
	if s == nil {
		p.line("[::b]No seeds run yet.[::-] Ctrl-T runs the scenario over seeds (and, optionally, against a B arm).")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	state := s.status.String()
	switch s.status {
	case runRunning:
		state = fmt.Sprintf("[yellow]running[-], Ctrl-C stops (wall %.1f s)", time.Since(s.started).Seconds())
	case runDone:
		state = fmt.Sprintf("[green]finished[-] in %.1f s wall", s.wall.Seconds())
	case runStopped:
		state = fmt.Sprintf("[yellow]stopped[-] after %.1f s wall", s.wall.Seconds())
	case runFailed:
		state = "[red]failed[-]"
	}
	p.line("[::b]%s[::-] seeds %d..%d on %d workers   %s", tview.Escape(s.name), s.first, s.first+uint64(s.n)-1, s.workers, state)
	colors := []tcell.Color{tcell.ColorSteelBlue, tcell.ColorOrange}
	for a, name := range s.arms {
		k, n := s.count(a)
		p.line("")
		p.line("[::b]Arm %c[::-] %s: %d of %d seeds done", 'A'+a, tview.Escape(name), n, s.n)
		if n == 0 {
			continue
		}
		iv, _ := stats.WilsonInterval(k, n, 0.95)
		pr := float64(k) / float64(n)
		p.line("  OOM in %d of %d runs: [::b]p = %.3f[::-]   95 %% Wilson [%.3f, %.3f]", k, n, pr, iv.Lo, iv.Hi)
		if p.line("  0 %*s 1", max(0, w-8), "") {
			intervalBar(scr, x+4, y+p.row-1, max(1, w-8), pr, iv.Lo, iv.Hi, colors[a%2])
		}
		for _, l := range outcomes(s.out[a], w) {
			p.line("  %s", l)
		}
		if p.line("  interval width as seeds finish: ") {
			sparkline(scr, x+34, y+p.row-1, max(0, w-36), s.widths[a], 1, colors[a%2])
		}
	}
	if len(s.arms) == 2 {
		var t stats.PairedBinary
		for i := range s.n {
			oa, ob := s.out[0][i], s.out[1][i]
			if oa == nil || ob == nil {
				continue
			}
			switch {
			case oa.oom && ob.oom:
				t.Both++
			case oa.oom:
				t.OnlyA++
			case ob.oom:
				t.OnlyB++
			default:
				t.Neither++
			}
		}
		p.line("")
		if t.N() > 0 {
			iv, err := stats.NewcombePairedDiff(t, 0.95)
			d := float64(t.OnlyB-t.OnlyA) / float64(t.N())
			if err == nil {
				p.line("[::b]B − A[::-], %d paired seeds: OOM %+.3f, 95 %% Newcombe [%+.3f, %+.3f]", t.N(), d, -iv.Hi, -iv.Lo)
			}
		}
	}
	if s.err != nil {
		for i, l := range strings.Split(s.err.Error(), "\n") {
			if i == 3 {
				break
			}
			p.line("[red]%s[-]", tview.Escape(l))
		}
	}
}

// outcomes sums up the other outcomes of an arm's finished seeds: failed
// allocations, stall, latency and the time of the first OOM kill; on one
// line when the view is wide, else on two.
func outcomes(out []*seedOutcome, width int) []string {
	var fails, stall, p99, first []float64
	withFail := 0
	for _, o := range out {
		if o == nil {
			continue
		}
		fails = append(fails, float64(o.failures))
		if o.failures > 0 {
			withFail++
		}
		stall = append(stall, float64(o.stallNs)/1e9)
		p99 = append(p99, float64(o.p99Ns))
		if o.oom {
			first = append(first, float64(o.firstOOMNs)/1e9)
		}
	}
	a := fmt.Sprintf("failed allocations %.0f a run (%d runs with any)   stall %.3f s a run", mean(fails), withFail, mean(stall))
	b := fmt.Sprintf("p99 latency median %.0f ns", median(p99))
	if len(first) > 0 {
		b += fmt.Sprintf("   first OOM median %.2f s", median(first))
	}
	if len(a)+len(b)+5 <= width {
		return []string{a + "   " + b}
	}
	return []string{a, b}
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return v[n/2]
	} else {
		return (v[n/2-1] + v[n/2]) / 2
	}
}
