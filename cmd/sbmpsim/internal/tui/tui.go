// Package tui is `sbmpsim tui`: a full-screen terminal view to edit a
// scenario, run it and watch the machine, and run it over seeds.
//
// It holds no simulation logic: a run is world.Run with an Observer that
// copies each time-series sample out for the run view, the seeds view is
// world.Run once per seed, and what a view shows for a seed is that
// seed's summary.json (the OOM kill lines print summary.json's time_ns).
// Scenarios are parsed and validated by the scenario package, so the
// editor's errors are the CLI's, with their file, line and key.
//
// Keys (tview's TextArea already binds Ctrl-A, Ctrl-E, Ctrl-Q, Ctrl-X and
// others to editing, so the product's intended Ctrl-E and Ctrl-X moved):
//
//	F1        help                 F2/F3/F4  editor / run / seeds view
//	Ctrl-S    save (asks for a path when editing an embedded scenario)
//	Ctrl-R    run the scenario in the background (again: restart)
//	Ctrl-T    run it over seeds, optionally A/B against one --set
//	Ctrl-G    put the cursor on the first error's line
//	Ctrl-C    stop what runs in the view shown; with nothing running, quit
//	F10       quit (asks when there are unsaved changes)
package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// RunFunc runs one scenario; world.Run in the product, a stand-in in
// tests.
type RunFunc func(ctx context.Context, sc *scenario.Scenario, opt world.Options) (*world.Result, error)

// Options configure a UI.
type Options struct {
	// Path is the file Ctrl-S writes; empty for an embedded scenario,
	// where Ctrl-S asks for one.
	Path string
	// Source names the scenario in errors (a path, or "embedded:NAME").
	Source string
	// Text is the scenario's TOML.
	Text string
	// Screen is where to draw; nil opens the terminal.
	Screen tcell.Screen
	// Workers is the goroutines of a seeds run; 0 takes GOMAXPROCS.
	Workers int
	// Run runs a scenario; nil takes world.Run.
	Run RunFunc
	// Sets are overrides (`sbmpsim tui --set KEY=VALUE`) applied to the
	// text before it is validated and run; the text itself, and what
	// Ctrl-S writes, stay as edited.
	Sets []string
}

// Page names.
const (
	pageEditor = "editor"
	pageRun    = "run"
	pageSeeds  = "seeds"
	pageHelp   = "help"
)

// validateDelay is how long the editor waits after a keystroke before it
// parses and validates the text.
const validateDelay = 250 * time.Millisecond

// redrawInterval bounds how often background work redraws the screen.
const redrawInterval = 100 * time.Millisecond

// UI is one `sbmpsim tui` session.
type UI struct {
	app     *tview.Application
	layers  *tview.Pages // the main layout, and dialogs over it
	content *tview.Pages // editor, run, seeds, help
	tabs    *tview.TextView
	status  *tview.TextView
	editor  *editorView
	errView *tview.TextView
	body    *tview.Flex // editor and its error panel
	runBox  *tview.Box
	seedBox *tview.Box
	runFn   RunFunc
	workers int

	dirty atomic.Bool   // background work has something new to show
	done  chan struct{} // closed when the UI stops

	// Everything below is touched on the UI goroutine only, except
	// where noted.
	page   string
	dialog string // the open dialog's page name, "" for none
	path   string
	source string
	sets   []string // Options.Sets
	saved  string   // the text as last loaded or saved
	msg    string   // the status line's message
	// msgWhileBusy: msg speaks of a run or seeds run in progress, and is
	// cleared once nothing runs.
	msgWhileBusy bool

	check      *time.Timer
	editGen    int
	checkedGen int
	errs       []*scenario.Error // the text's errors (checkedGen)
	other      string            // an error that is not a scenario.Error
	errLines   map[int]bool

	mu          sync.Mutex // guards run and seeds (read by draw functions)
	run         *runState
	runCancel   context.CancelFunc
	seeds       *seedsState
	seedsCancel context.CancelFunc
}

// New builds the UI for one scenario text.
func New(opt Options) (*UI, error) {
	u := &UI{
		app: tview.NewApplication(), runFn: opt.Run, workers: opt.Workers,
		path: opt.Path, source: opt.Source, sets: opt.Sets, saved: opt.Text, done: make(chan struct{}),
		page: pageEditor,
	}
	if u.runFn == nil {
		u.runFn = world.Run
	}
	if u.workers <= 0 {
		u.workers = runtime.GOMAXPROCS(0)
	}
	if u.source == "" {
		u.source = u.path
	}
	if opt.Screen != nil {
		u.app.SetScreen(opt.Screen)
	}

	ta := tview.NewTextArea().SetWrap(false)
	ta.SetText(opt.Text, false)
	u.editor = &editorView{TextArea: ta, ui: u}
	ta.SetChangedFunc(u.onEdit)
	ta.SetMovedFunc(func() { u.setStatus("") })

	u.errView = tview.NewTextView().SetDynamicColors(true).SetWrap(true)
	u.body = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(u.editor, 0, 1, true).
		AddItem(u.errView, 1, 0, false)

	u.runBox = tview.NewBox()
	u.runBox.SetDrawFunc(func(scr tcell.Screen, x, y, w, h int) (int, int, int, int) {
		u.mu.Lock()
		r := u.run
		u.mu.Unlock()
		drawRun(scr, x, y, w, h, r)
		return x, y, w, h
	})
	u.seedBox = tview.NewBox()
	u.seedBox.SetDrawFunc(func(scr tcell.Screen, x, y, w, h int) (int, int, int, int) {
		u.mu.Lock()
		s := u.seeds
		u.mu.Unlock()
		drawSeeds(scr, x, y, w, h, s)
		return x, y, w, h
	})
	help := tview.NewTextView().SetDynamicColors(true).SetText(helpText)
	help.SetBorder(true).SetTitle(" sbmpsim tui: keys (Esc or F2 back) ")

	u.content = tview.NewPages().
		AddPage(pageEditor, u.body, true, true).
		AddPage(pageRun, u.runBox, true, false).
		AddPage(pageSeeds, u.seedBox, true, false).
		AddPage(pageHelp, help, true, false)
	u.tabs = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	u.status = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	main := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(u.tabs, 1, 0, false).
		AddItem(u.content, 0, 1, true).
		AddItem(u.status, 1, 0, false)
	u.layers = tview.NewPages().AddPage("main", main, true, true)
	u.app.SetRoot(u.layers, true).SetFocus(u.editor)
	u.app.SetInputCapture(u.onKey)
	u.app.SetBeforeDrawFunc(func(tcell.Screen) bool { u.refreshChrome(); return false })
	u.validateNow()
	return u, nil
}

// Run shows the UI until the user quits. The terminal is restored on
// return, also when a run panicked (runs recover their own panics and
// show them as errors).
func (u *UI) Run() error {
	go u.redrawLoop()
	defer func() {
		close(u.done)
		u.mu.Lock()
		if u.runCancel != nil {
			u.runCancel()
		}
		if u.seedsCancel != nil {
			u.seedsCancel()
		}
		u.mu.Unlock()
	}()
	return u.app.Run()
}

// Stop ends Run from any goroutine.
func (u *UI) Stop() { u.app.Stop() }

// Unsaved returns the editor's text and whether it differs from the file;
// after Run has returned, the caller keeps what would otherwise be lost
// (a hang-up or a termination signal stops the UI without asking).
func (u *UI) Unsaved() (text string, modified bool) {
	text = u.editor.GetText()
	return text, text != u.saved
}

// redrawLoop redraws at most every redrawInterval while background work
// has something new, and every second anyway, so that wall-clock figures
// move while a long seed runs.
func (u *UI) redrawLoop() {
	t := time.NewTicker(redrawInterval)
	defer t.Stop()
	for tick := 1; ; tick++ {
		select {
		case <-u.done:
			return
		case <-t.C:
			if u.dirty.Swap(false) || tick%int(time.Second/redrawInterval) == 0 {
				u.app.QueueUpdateDraw(func() {})
			}
		}
	}
}

// onKey handles the keys of the whole UI before the focused view sees
// them.
func (u *UI) onKey(ev *tcell.EventKey) *tcell.EventKey {
	if u.dialog != "" {
		if ev.Key() == tcell.KeyCtrlC || ev.Key() == tcell.KeyEscape {
			u.closeDialog()
			return nil
		}
		return ev
	}
	switch ev.Key() {
	case tcell.KeyF1:
		u.show(pageHelp)
	case tcell.KeyF2:
		u.show(pageEditor)
	case tcell.KeyF3:
		u.show(pageRun)
	case tcell.KeyF4:
		u.show(pageSeeds)
	case tcell.KeyEscape:
		if u.page == pageHelp {
			u.show(pageEditor)
			return nil
		}
		return ev
	case tcell.KeyCtrlS:
		u.save(false)
	case tcell.KeyCtrlR:
		u.startRun()
	case tcell.KeyCtrlT:
		u.openSeedsForm()
	case tcell.KeyCtrlG:
		u.gotoError()
	case tcell.KeyF10:
		u.requestQuit()
	case tcell.KeyCtrlC:
		u.interrupt()
	default:
		return ev
	}
	return nil
}

// show switches the main view.
func (u *UI) show(page string) {
	u.page = page
	u.content.SwitchToPage(page)
	if page == pageEditor {
		u.app.SetFocus(u.editor)
	}
}

// setStatus sets the status line's message.
func (u *UI) setStatus(msg string) { u.msg, u.msgWhileBusy = msg, false }

// setBusyStatus sets a message that holds while a run or seeds run goes.
func (u *UI) setBusyStatus(msg string) { u.msg, u.msgWhileBusy = msg, true }

// modified reports whether the text differs from the file.
func (u *UI) modified() bool { return u.editor.GetText() != u.saved }

// refreshChrome redraws the tab bar, the status line and the error
// panel's size before each frame.
func (u *UI) refreshChrome() {
	var b strings.Builder
	for _, t := range []struct{ key, page, name string }{{"F2", pageEditor, "Edit"}, {"F3", pageRun, "Run"}, {"F4", pageSeeds, "Seeds"}, {"F1", pageHelp, "Help"}} {
		if t.page == u.page {
			fmt.Fprintf(&b, "[black:white]%s %s[-:-] ", t.key, t.name)
		} else {
			fmt.Fprintf(&b, "%s %s ", t.key, t.name)
		}
	}
	b.WriteString("│ ")
	if u.modified() {
		b.WriteString("[yellow]● modified[-] ")
	}
	name := u.path
	if name == "" {
		name = u.source
	}
	b.WriteString(tview.Escape(name))
	busy := false
	u.mu.Lock()
	if r := u.run; r != nil {
		r.mu.Lock()
		fmt.Fprintf(&b, " │ run: %s", r.status)
		busy = r.status == runRunning
		r.mu.Unlock()
	}
	if s := u.seeds; s != nil {
		s.mu.Lock()
		fmt.Fprintf(&b, " │ seeds: %s", s.statusText())
		busy = busy || s.status == runRunning
		s.mu.Unlock()
	}
	u.mu.Unlock()
	if u.msgWhileBusy && !busy {
		u.msg, u.msgWhileBusy = "", false
	}
	u.tabs.SetText(b.String())

	row, col, _, _ := u.editor.GetCursor()
	msg := u.msg
	if msg == "" {
		msg = "Ctrl-R run  Ctrl-T seeds  Ctrl-S save  F1 help  F10 quit"
	}
	u.status.SetText(fmt.Sprintf("[::r] %d:%d [::-] %s", row+1, col+1, msg))

	// The error panel wraps long errors: one line for the verdict, then
	// each error's rows at the panel's width, at most maxErrRows in all.
	const maxErrRows = 6
	_, _, w, _ := u.body.GetRect()
	lines := 1
	msgs := make([]string, 0, len(u.errs)+1)
	for i, e := range u.errs {
		if i == 4 {
			break
		}
		msgs = append(msgs, e.Error())
	}
	if u.other != "" {
		msgs = append(msgs, firstLine(u.other))
	}
	for _, m := range msgs {
		lines += max(1, (len([]rune(m))+max(w, 1)-1)/max(w, 1))
	}
	u.body.ResizeItem(u.errView, min(lines, maxErrRows), 0)
}

// onEdit runs after every change to the text: it validates after a pause.
func (u *UI) onEdit() {
	u.editGen++
	gen := u.editGen
	if u.check != nil {
		u.check.Stop()
	}
	u.check = time.AfterFunc(validateDelay, func() {
		u.app.QueueUpdateDraw(func() {
			if gen == u.editGen {
				u.validateNow()
			}
		})
	})
}

// parse parses the editor's text, applies the --set overrides and
// validates the result.
func (u *UI) parse() (*scenario.Scenario, error) {
	sc, err := scenario.Parse(u.source, []byte(u.editor.GetText()))
	if err != nil {
		return nil, err
	}
	for _, s := range u.sets {
		if err := sc.Set(s); err != nil {
			return nil, err
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

// validateNow validates the text and shows its errors.
func (u *UI) validateNow() {
	u.checkedGen = u.editGen
	_, err := u.parse()
	u.errs, u.other = splitErrors(err)
	u.errLines = map[int]bool{}
	for _, e := range u.errs {
		if e.Line > 0 {
			u.errLines[e.Line] = true
		}
	}
	var b strings.Builder
	if err == nil {
		b.WriteString("[green]✓ valid scenario[-]")
		if len(u.sets) > 0 {
			b.WriteString(tview.Escape(" with --set " + strings.Join(u.sets, " --set ")))
		}
	} else {
		n := len(u.errs)
		if u.other != "" {
			n++
		}
		fmt.Fprintf(&b, "[red]✗ %d error(s)[-] (Ctrl-G goes to the first)", n)
		for i, e := range u.errs {
			if i == 4 {
				break
			}
			fmt.Fprintf(&b, "\n[red]%s[-]", tview.Escape(e.Error()))
		}
		if u.other != "" {
			fmt.Fprintf(&b, "\n[red]%s[-]", tview.Escape(firstLine(u.other)))
		}
	}
	u.errView.SetText(b.String())
}

// splitErrors returns the located scenario errors in err, and the text of
// any other error in it.
func splitErrors(err error) (errs []*scenario.Error, other string) {
	if err == nil {
		return nil, ""
	}
	var walk func(error)
	var rest []string
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var se *tomlfile.Error
		if errors.As(e, &se) {
			errs = append(errs, se)
			return
		}
		rest = append(rest, e.Error())
	}
	walk(err)
	return errs, strings.Join(rest, "; ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// gotoError puts the cursor on the first error's line.
func (u *UI) gotoError() {
	u.validateNow()
	for _, e := range u.errs {
		if e.Line > 0 {
			u.show(pageEditor)
			u.editor.Select(lineOffset(u.editor.GetText(), e.Line), lineOffset(u.editor.GetText(), e.Line))
			u.setStatus("line " + strconv.Itoa(e.Line) + ": " + e.Msg)
			return
		}
	}
	u.setStatus("no error with a line")
}

// lineOffset is the byte offset of the start of 1-based line n of text.
func lineOffset(text string, n int) int {
	off := 0
	for i := 1; i < n; i++ {
		j := strings.IndexByte(text[off:], '\n')
		if j < 0 {
			return len(text)
		}
		off += j + 1
	}
	return off
}

// save writes the text to its file, atomically; with no file, or asked
// to, it first asks for a path. quit says to quit once saved.
func (u *UI) save(quit bool) {
	if u.path == "" {
		u.askPath(quit)
		return
	}
	if err := u.writeTo(u.path); err != nil {
		u.setStatus("[red]" + tview.Escape(err.Error()) + "[-]")
		return
	}
	if quit {
		u.app.Stop()
	}
}

// writeTo writes the text to path (temp file, then rename) and makes it
// the saved state.
func (u *UI) writeTo(path string) error {
	text := u.editor.GetText()
	if err := output.WriteFileAtomic(path, []byte(text)); err != nil {
		return err
	}
	u.saved = text
	msg := "saved " + path
	if len(u.errs) > 0 || u.other != "" {
		msg += " [yellow](it has errors)[-]"
	}
	u.setStatus(tview.Escape(msg))
	return nil
}

// askPath asks where to save.
func (u *UI) askPath(quit bool) {
	name := strings.TrimPrefix(u.source, tomlfile.EmbeddedPrefix)
	if !strings.HasSuffix(name, ".toml") {
		name += ".toml"
	}
	form := tview.NewForm()
	form.AddInputField("Save as", name, 50, nil, nil)
	form.AddButton("Save", func() {
		p := strings.TrimSpace(form.GetFormItem(0).(*tview.InputField).GetText())
		if p == "" {
			return
		}
		if _, err := os.Stat(filepath.Dir(p)); err != nil {
			form.SetTitle(" no such directory: " + filepath.Dir(p) + " ")
			return
		}
		if err := u.writeTo(p); err != nil {
			form.SetTitle(" " + err.Error() + " ")
			return
		}
		u.path, u.source = p, p
		u.validateNow()
		u.closeDialog()
		if quit {
			u.app.Stop()
		}
	})
	form.AddButton("Cancel", u.closeDialog)
	form.SetBorder(true).SetTitle(" Save the scenario to a file (Esc cancels) ")
	u.openDialog("save", form, 70, 7)
}

// openDialog shows p centered over the UI.
func (u *UI) openDialog(name string, p tview.Primitive, w, h int) {
	grid := tview.NewFlex().
		AddItem(nil, 0, 1, false).
		AddItem(tview.NewFlex().SetDirection(tview.FlexRow).
			AddItem(nil, 0, 1, false).
			AddItem(p, h, 0, true).
			AddItem(nil, 0, 1, false), w, 0, true).
		AddItem(nil, 0, 1, false)
	u.dialog = name
	u.layers.AddPage(name, grid, true, true)
	u.app.SetFocus(p)
}

// closeDialog closes the open dialog.
func (u *UI) closeDialog() {
	if u.dialog == "" {
		return
	}
	u.layers.RemovePage(u.dialog)
	u.dialog = ""
	u.show(u.page)
	if u.page != pageEditor {
		u.app.SetFocus(u.content)
	}
}

// requestQuit quits, asking first when the text has unsaved changes.
func (u *UI) requestQuit() {
	if !u.modified() {
		u.app.Stop()
		return
	}
	m := tview.NewModal().
		SetText("The scenario has unsaved changes.").
		AddButtons([]string{"Save", "Discard", "Cancel"}).
		SetDoneFunc(func(_ int, label string) {
			u.closeDialog()
			switch label {
			case "Save":
				u.save(true)
			case "Discard":
				u.app.Stop()
			}
		})
	u.dialog = "quit"
	u.layers.AddPage("quit", m, true, true)
	u.app.SetFocus(m)
}

// interrupt is Ctrl-C: stop what runs in the view shown, or quit.
func (u *UI) interrupt() {
	u.mu.Lock()
	var cancel context.CancelFunc
	switch {
	case u.page == pageSeeds && u.seeds != nil && u.seeds.running():
		cancel = u.seedsCancel
	case u.page == pageRun && u.run != nil && u.run.running():
		cancel = u.runCancel
	}
	u.mu.Unlock()
	if cancel != nil {
		cancel()
		u.setBusyStatus("stopping…")
		return
	}
	u.requestQuit()
}

// startRun runs the editor's scenario in the background, stopping a run
// already going.
func (u *UI) startRun() {
	sc, ok := u.runnable()
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := newRunState(sc.Run.Name, sc.Run.Seed, sc.Run.DurationMs*1_000_000, time.Now())
	u.mu.Lock()
	if u.runCancel != nil {
		u.runCancel()
	}
	u.run, u.runCancel = r, cancel
	u.mu.Unlock()
	u.show(pageRun)
	u.setBusyStatus("running " + tview.Escape(sc.Run.Name) + "; F2 edits meanwhile, Ctrl-C stops, Ctrl-R restarts")
	go func() {
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				r.fail(p, debug.Stack(), time.Now())
				u.dirty.Store(true)
			}
		}()
		res, err := u.runFn(ctx, sc, world.Options{Observer: func(sn *world.Snapshot) {
			r.observe(sn)
			u.dirty.Store(true)
		}})
		r.finish(res, err, ctx.Err() != nil, time.Now())
		u.dirty.Store(true)
	}()
}

// runnable parses and validates the editor's text for a run; with
// errors it shows them and says so on the status line.
func (u *UI) runnable() (*scenario.Scenario, bool) {
	sc, err := u.parse()
	if err != nil {
		u.validateNow()
		u.setStatus("[red]fix the scenario's errors first (Ctrl-G)[-]")
		return nil, false
	}
	return sc, true
}

// running reports whether the run is still going.
func (r *runState) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status == runRunning
}

const helpText = `[::b]Editor[::-]
  The scenario's TOML, validated as you type; errors show below it with
  their file, line and key, and their lines are marked [red]![-] in the margin.
  Editing keys are tview's TextArea's: arrows, Home/End (Ctrl-A/Ctrl-E),
  PgUp/PgDn, Ctrl-K/Ctrl-U/Ctrl-W delete, Ctrl-Z undo, Ctrl-Y redo,
  Ctrl-L select all, Ctrl-Q copy, Ctrl-X cut, Ctrl-V paste.

[::b]Keys of the whole UI[::-]
  F1         this help (Esc or F2 back)
  F2 F3 F4   editor / run view / seeds view
  Ctrl-S     save the file (temp file, then rename); asks for a path
             when the scenario is an embedded one
  Ctrl-R     run the scenario in the background; again: restart it
  Ctrl-T     run it over seeds, optionally A/B against one --set
  Ctrl-G     cursor to the first error's line
  Ctrl-C     stop the run or the seeds of the view shown; with nothing
             running there, quit
  F10        quit (asks what to do with unsaved changes)

[::b]Run view[::-]
  Memory by kind per node over simulated time (anon, kernel incl. SBMP
  in kernel placement, page cache, free), SBMP allocations per second
  by tier (log scale), Tier-0 free slots per CPU (red < 8, yellow
  8-32, green > 32: SPEC 1.5), each CPU's FSM state (I IDLE,
  L ALLOCATING, S SYNCING, A ACTIVE, M MIGRATING), degrade state and
  entries, the SPEC 1.5 alerts of the last 500 ms, OOM kills with
  their victim and time_ns, and at the end the summary's key figures.

[::b]Seeds view[::-]
  The OOM probability and its 95 % Wilson interval as seeds finish,
  with failed allocations, stall and latency beside it; with a B arm,
  both arms and their paired difference (Newcombe).`
