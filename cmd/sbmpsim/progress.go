package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters.
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.=,/:+@%", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runBar is a progress bar (runs done of those to do, runs/s, ETA) on
// standard error when it is a terminal, and nothing otherwise: CI logs and
// scripts get only the final line. Its clock is for display only. ab,
// sweep, run --seeds and check share it.
type runBar struct {
	w    io.Writer
	desc string
	// its names what update counts ("runs"); empty, the bar shows only
	// how far it is (check counts thousandths of its work).
	its string
	bar *progressbar.ProgressBar
}

// newRunBar returns nil, a bar that shows nothing, unless w is a
// terminal.
func newRunBar(w io.Writer, desc string) *runBar {
	if !isTerminal(w) {
		return nil
	}
	return &runBar{w: w, desc: desc, its: "runs"}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update is sweep.Options.Progress and ab.Config.Progress; the callers
// serialise the calls.
func (b *runBar) update(done, pending int) {
	if b == nil || pending == 0 {
		return
	}
	if b.bar == nil {
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription(b.desc),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100 * time.Millisecond),
			progressbar.OptionSetWidth(30),
		}
		if b.its != "" {
			opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(b.its))
		}
		b.bar = progressbar.NewOptions(pending, opts...)
	}
	_ = b.bar.Set(done) // drawing errors (a closed terminal) do not stop a sweep
}

// finish ends the bar's line, if one was drawn.
func (b *runBar) finish() {
	if b == nil || b.bar == nil {
		return
	}
	_ = b.bar.Exit()
	fmt.Fprintln(b.w)
}

// checkUnits is how many steps one seed's checked run makes on check's
// bar.
const checkUnits = 1000

// checkProgress draws check's bar: the share of the seeds' simulated
// time checked so far, which moves within one long seed too.
type checkProgress struct {
	mu   sync.Mutex
	bar  *runBar
	done []int64 // per seed, checkUnits when finished
	sum  int64
}

// newCheckProgress returns nil (no progress to report) unless bar draws.
func newCheckProgress(bar *runBar, seeds int) *checkProgress {
	if bar == nil {
		return nil
	}
	bar.its = "" // it counts thousandths of the seeds' simulated time
	return &checkProgress{bar: bar, done: make([]int64, seeds)}
}

// seed is vopr.Options.Progress: seed i's run has checked up to nowNs of
// endNs. Calls for different seeds may be concurrent.
func (p *checkProgress) seed(i int, nowNs, endNs int64) {
	u := int64(checkUnits)
	if endNs > 0 && nowNs < endNs {
		u = nowNs * checkUnits / endNs
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if u <= p.done[i] {
		return
	}
	p.sum += u - p.done[i]
	p.done[i] = u
	p.bar.update(int(p.sum), len(p.done)*checkUnits)
}
