package main

import (
	"fmt"
	"io"
	"os"
	"strings"
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
// scripts get only the final line. Its clock is for display only. ab and
// sweep share it.
type runBar struct {
	w    io.Writer
	desc string
	bar  *progressbar.ProgressBar
}

// newRunBar returns nil, a bar that shows nothing, unless w is a
// terminal.
func newRunBar(w io.Writer, desc string) *runBar {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &runBar{w: w, desc: desc}
}

// update is sweep.Options.Progress and ab.Config.Progress; the callers
// serialise the calls.
func (b *runBar) update(done, pending int) {
	if b == nil || pending == 0 {
		return
	}
	if b.bar == nil {
		b.bar = progressbar.NewOptions(pending,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription(b.desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("runs"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
		)
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
