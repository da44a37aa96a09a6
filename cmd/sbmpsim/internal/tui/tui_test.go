package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// session is a UI running on tcell's SimulationScreen.
type session struct {
	t    *testing.T
	u    *UI
	scr  tcell.SimulationScreen
	errc chan error
}

// start opens the UI on a simulated screen of w x h over text.
func start(t *testing.T, w, h int, opt Options) *session {
	t.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	opt.Screen = scr
	u, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	scr.SetSize(w, h)
	s := &session{t: t, u: u, scr: scr, errc: make(chan error, 1)}
	go func() { s.errc <- u.Run() }()
	t.Cleanup(func() {
		u.Stop()
		select {
		case <-s.errc:
		case <-time.After(5 * time.Second):
			t.Error("the UI did not stop")
		}
	})
	s.waitFor("the first frame", func(text string) bool { return strings.Contains(text, "F2 Edit") })
	return s
}

// embedded is the text of an embedded scenario.
func embedded(t *testing.T, name string) Options {
	t.Helper()
	data, err := scenarios.Format().ReadEmbedded(name)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Source: tomlfile.EmbeddedPrefix + name, Text: string(data)}
}

// text is the screen's content, one line per row. It is read on the
// UI's goroutine, which also draws (the simulation screen's cells are not
// guarded), or "" once the UI has stopped.
func (s *session) text() string {
	got := make(chan string, 1)
	go s.u.app.QueueUpdate(func() { got <- s.contents() })
	select {
	case text := <-got:
		return text
	case <-time.After(time.Second):
		return ""
	}
}

// contents renders the screen's cells.
func (s *session) contents() string {
	cells, w, h := s.scr.GetContents()
	var b strings.Builder
	for y := range h {
		for x := range w {
			r := cells[y*w+x].Runes
			if len(r) == 0 {
				b.WriteByte(' ')
				continue
			}
			b.WriteRune(r[0])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// waitFor polls the screen until ok holds, failing after 90 s (the race
// detector on two busy cores makes runs slow).
func (s *session) waitFor(what string, ok func(text string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		text := s.text()
		if ok(text) {
			return text
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waiting for %s; the screen shows:\n%s", what, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *session) contains(sub string) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%q", sub), func(text string) bool { return strings.Contains(text, sub) })
}

func (s *session) typeText(text string) {
	for _, r := range text {
		if r == '\n' {
			s.scr.InjectKey(tcell.KeyEnter, 0, tcell.ModNone)
			continue
		}
		s.scr.InjectKey(tcell.KeyRune, r, tcell.ModNone)
	}
}

func (s *session) key(k tcell.Key) { s.scr.InjectKey(k, 0, tcell.ModNone) }

func TestEditorMarksTheErrorLineAndClearsItWhenFixed(t *testing.T) {
	s := start(t, 80, 24, embedded(t, "steady"))
	s.contains("✓ valid scenario")
	s.typeText("bogus_key = 1\n")
	text := s.contains("embedded:steady:1:1: bogus_key: unknown key")
	if !strings.Contains(strings.Split(text, "\n")[1], "1!") {
		t.Errorf("line 1 is not marked in the margin:\n%s", text)
	}
	if !strings.Contains(text, "● modified") {
		t.Errorf("the tab bar does not say the text is modified:\n%s", text)
	}
	s.key(tcell.KeyUp) // delete the line again
	s.key(tcell.KeyCtrlU)
	s.waitFor("the error to clear", func(text string) bool {
		return strings.Contains(text, "✓ valid scenario") && !strings.Contains(text, "● modified")
	})
}

// TestSetOverridesWhatIsValidated: --set applies to what is validated
// (and run), is named on the status line, and its errors are shown as
// the CLI's; the text stays as written.
func TestSetOverridesWhatIsValidated(t *testing.T) {
	opt := embedded(t, "steady")
	opt.Sets = []string{"run.duration_ms=200"}
	s := start(t, 120, 24, opt)
	s.contains("✓ valid scenario with --set run.duration_ms=200")
	got := make(chan error, 1)
	go s.u.app.QueueUpdate(func() { // the editor is the UI goroutine's
		sc, err := s.u.parse()
		switch {
		case err == nil && sc.Run.DurationMs != 200:
			err = fmt.Errorf("duration %d ms, want 200 from --set", sc.Run.DurationMs)
		case err == nil && s.u.modified():
			err = errors.New("--set changed the text")
		}
		got <- err
	})
	select {
	case err := <-got:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the UI did not answer")
	}
	opt.Sets = []string{"kernel.swappiness=300"}
	s = start(t, 120, 24, opt)
	s.contains("--set: kernel.swappiness: must be")
}

func TestErrorsAreTheCLIs(t *testing.T) {
	opt := embedded(t, "steady")
	opt.Text = strings.Replace(opt.Text, "[run]", "[run]\nduration_ms = -5", 1)
	sc, cliErr := scenario.Parse(opt.Source, []byte(opt.Text))
	if cliErr == nil {
		cliErr = sc.Validate()
	}
	if cliErr == nil {
		t.Fatal("the broken scenario is valid")
	}
	s := start(t, 200, 50, opt)
	errs, _ := splitErrors(cliErr)
	s.contains(errs[0].Error())
	s.key(tcell.KeyCtrlR) // refuses to run
	s.contains("fix the scenario's errors first")
	s.key(tcell.KeyCtrlG)
	s.contains(fmt.Sprintf("line %d:", errs[0].Line))
}

func TestRunShowsTheOOMKillOfTheSummary(t *testing.T) {
	opt := embedded(t, "anon-fill")
	sc, err := scenario.Parse(opt.Source, []byte(opt.Text))
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	want, err := world.Run(context.Background(), sc, world.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Summary.OOMEvents) == 0 {
		t.Fatal("anon-fill has no OOM kill")
	}
	for _, size := range [][2]int{{80, 24}, {200, 50}} {
		t.Run(fmt.Sprint(size[0], "x", size[1]), func(t *testing.T) {
			s := start(t, size[0], size[1], opt)
			s.key(tcell.KeyCtrlR)
			text := s.contains("finished")
			line := oomLine(want.Summary.OOMEvents[0])
			if size[0] < len(line) {
				line = line[:size[0]-1]
			}
			if !strings.Contains(text, line) {
				t.Errorf("the run view lacks %q:\n%s", line, text)
			}
			if !strings.Contains(text, "Memory by kind per node") || !strings.Contains(text, "node 0") {
				t.Errorf("no memory chart:\n%s", text)
			}
		})
	}
}

func TestRunViewShowsTiersHeatAndFSM(t *testing.T) {
	s := start(t, 200, 50, embedded(t, "steady"))
	s.key(tcell.KeyCtrlR)
	text := s.contains("finished")
	for _, want := range []string{"SBMP allocations/s by tier", "Tier-0 free/CPU", "FSM", "IDLE", "alerts: tier0_free_avg", "Summary allocs", "trace "} {
		if !strings.Contains(text, want) {
			t.Errorf("the run view lacks %q:\n%s", want, text)
		}
	}
}

func TestAPanickingRunIsAnErrorNotABrokenScreen(t *testing.T) {
	opt := embedded(t, "anon-fill")
	opt.Run = func(context.Context, *scenario.Scenario, world.Options) (*world.Result, error) {
		panic("boom in the model")
	}
	s := start(t, 80, 24, opt)
	s.key(tcell.KeyCtrlR)
	s.contains("the run panicked: boom in the model")
	s.key(tcell.KeyF2) // the UI still answers
	s.contains("✓ valid scenario")
}

func TestCtrlRRestartsAndCtrlCStopsARun(t *testing.T) {
	started := make(chan struct{}, 4)
	opt := embedded(t, "anon-fill")
	opt.Run = func(ctx context.Context, _ *scenario.Scenario, _ world.Options) (*world.Result, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	s := start(t, 80, 24, opt)
	s.key(tcell.KeyCtrlR)
	<-started
	s.contains("run: running")
	s.key(tcell.KeyCtrlR)
	<-started
	s.key(tcell.KeyCtrlC)
	s.contains("run: stopped")
}

func TestSeedsViewCountsAsRunSeeds(t *testing.T) {
	opt := embedded(t, "anon-fill")
	opt.Workers = 2
	sc, err := scenario.Parse(opt.Source, []byte(opt.Text))
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	const n = 6
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = sc.Run.Seed + uint64(i)
	}
	sums, err := world.RunSeeds(context.Background(), sc, seeds, 2)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, s := range sums {
		if s.OOMKills > 0 {
			k++
		}
	}
	s := start(t, 80, 24, opt)
	s.key(tcell.KeyCtrlT)
	s.contains("Run over seeds")
	s.key(tcell.KeyCtrlU)
	s.typeText(fmt.Sprint(n))
	s.key(tcell.KeyTab)
	s.typeText("kernel.swappiness=0")
	s.key(tcell.KeyTab)
	s.key(tcell.KeyTab)
	s.key(tcell.KeyEnter)
	text := s.contains("finished in")
	for _, want := range []string{fmt.Sprintf("OOM in %d of %d runs", k, n), "Arm B --set kernel.swappiness=0", "95 % Wilson", "Newcombe"} {
		if !strings.Contains(text, want) {
			t.Errorf("the seeds view lacks %q:\n%s", want, text)
		}
	}
}

func TestSaveAsksForAPathForAnEmbeddedScenario(t *testing.T) {
	s := start(t, 80, 24, embedded(t, "steady"))
	s.typeText("# edited\n")
	s.contains("● modified")
	s.key(tcell.KeyCtrlS)
	s.contains("Save the scenario to a file")
	path := filepath.Join(t.TempDir(), "mine.toml")
	s.key(tcell.KeyCtrlU)
	s.typeText(path)
	s.key(tcell.KeyTab) // to the Save button
	s.key(tcell.KeyEnter)
	s.waitFor("the save", func(text string) bool {
		return !strings.Contains(text, "● modified") && strings.Contains(text, "saved")
	})
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), "# edited\n") {
		t.Errorf("the file holds %.40q…", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want the file alone", len(entries))
	}
	// Now it has a path: Ctrl-S writes there without asking.
	s.typeText("# again\n")
	s.contains("● modified")
	s.key(tcell.KeyCtrlS)
	s.waitFor("the second save", func(text string) bool { return !strings.Contains(text, "● modified") })
	got, _ = os.ReadFile(path)
	if !strings.HasPrefix(string(got), "# edited\n# again\n") {
		t.Errorf("the file holds %.40q…", got)
	}
}

func TestQuitAsksAboutUnsavedChanges(t *testing.T) {
	s := start(t, 80, 24, embedded(t, "steady"))
	s.typeText("x")
	s.contains("● modified")
	s.key(tcell.KeyF10)
	s.contains("unsaved changes")
	s.key(tcell.KeyEscape) // cancel: still running, still modified
	s.waitFor("the dialog to close", func(text string) bool { return !strings.Contains(text, "unsaved changes") })
	s.key(tcell.KeyF10)
	s.contains("unsaved changes")
	s.key(tcell.KeyTab) // Save -> Discard
	s.key(tcell.KeyEnter)
	select {
	case err := <-s.errc:
		if err != nil {
			t.Fatal(err)
		}
		s.errc <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Discard did not quit")
	}
}

func TestSplitErrorsKeepsEveryLocatedError(t *testing.T) {
	a := &tomlfile.Error{File: "f", Line: 3, Key: "a", Msg: "bad"}
	b := &tomlfile.Error{File: "f", Line: 7, Key: "b", Msg: "worse"}
	errs, other := splitErrors(errors.Join(a, errors.New("plain"), b))
	if len(errs) != 2 || errs[0] != a || errs[1] != b || other != "plain" {
		t.Errorf("splitErrors = %v, %q", errs, other)
	}
	if errs, other := splitErrors(nil); errs != nil || other != "" {
		t.Error("nil error split into something")
	}
}

func TestLineOffset(t *testing.T) {
	text := "ab\ncd\n\nef"
	for _, tc := range []struct{ line, want int }{{1, 0}, {2, 3}, {3, 6}, {4, 7}, {9, len(text)}} {
		if got := lineOffset(text, tc.line); got != tc.want {
			t.Errorf("lineOffset(%d) = %d, want %d", tc.line, got, tc.want)
		}
	}
}

func TestCtrlCStopsTheSeedsCleanly(t *testing.T) {
	opt := embedded(t, "anon-fill")
	opt.Workers = 2
	opt.Run = func(ctx context.Context, _ *scenario.Scenario, _ world.Options) (*world.Result, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	s := start(t, 80, 24, opt)
	s.key(tcell.KeyCtrlT)
	s.contains("Run over seeds")
	s.key(tcell.KeyTab)
	s.key(tcell.KeyTab)
	s.key(tcell.KeyTab)
	s.key(tcell.KeyEnter)
	s.contains("running, Ctrl-C stops")
	s.key(tcell.KeyCtrlC)
	text := s.contains("stopped after")
	if !strings.Contains(text, "0 of 100 seeds done") {
		t.Errorf("a stopped seeds run counts a seed it did not finish:\n%s", text)
	}
	s.key(tcell.KeyF2) // the UI answers, and a second Ctrl-C (nothing runs) quits
	s.contains("✓ valid scenario")
	s.key(tcell.KeyCtrlC)
	select {
	case err := <-s.errc:
		if err != nil {
			t.Fatal(err)
		}
		s.errc <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("Ctrl-C with nothing running did not quit")
	}
}

// TestRunViewFitsEightNodesIn80x24 draws a finished run of an eight-node
// machine into the run view's 80x22 cells: the OOM kill and the summary
// must stay on the screen, the per-node figures give way.
func TestRunViewFitsEightNodesIn80x24(t *testing.T) {
	r := newRunState("epyc", 1, 10e9, time.Now())
	for i := range 8 {
		r.nodes = append(r.nodes, nodeSeries{id: i, managed: 1024, free: []float64{512}, file: []float64{256}, anon: []float64{200}, rest: []float64{56}})
	}
	r.ts = []float64{10}
	r.procs = []procView{{name: "sbmp-app", tier0Free: make([]int, 64)}}
	r.oom = []world.OOMEvent{{TimeNs: 9_500_000_000, Scope: "global", VictimPID: 7, VictimComm: "db"}}
	r.summary = &world.Summary{OOMKills: 1}
	r.status = runDone
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		t.Fatal(err)
	}
	scr.SetSize(80, 22)
	drawRun(scr, 0, 0, 80, 22, r)
	scr.Show()
	s := &session{scr: scr}
	text := s.contents()
	for _, want := range []string{"node 7", "OOM kill at 9.500 s", "Summary allocs", "FSM"} {
		if !strings.Contains(text, want) {
			t.Errorf("the run view lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "node 0: free") {
		t.Errorf("the per-node figures did not give way:\n%s", text)
	}
}
