package tui

import (
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// editorView is the scenario's TextArea with a margin of line numbers on
// its left; a line with an error is marked in the margin. Everything but
// drawing is the TextArea's.
type editorView struct {
	*tview.TextArea
	ui *UI
}

// gutterWidth is the margin's width for a text of n lines: the digits,
// the error mark and a space.
func gutterWidth(n int) int { return max(3, len(strconv.Itoa(n))) + 2 }

// Draw draws the margin, then the TextArea beside it.
func (e *editorView) Draw(scr tcell.Screen) {
	x, y, w, h := e.GetRect()
	text := e.GetText()
	lines := strings.Count(text, "\n") + 1
	gw := min(gutterWidth(lines), w)
	e.SetRect(x+gw, y, w-gw, h)
	e.TextArea.Draw(scr)
	e.SetRect(x, y, w, h)

	off, _ := e.GetOffset()
	cur, _, _, _ := e.GetCursor()
	numStyle := tcell.StyleDefault.Foreground(tcell.ColorGray)
	for r := range h {
		n := off + r + 1
		for c := range gw {
			scr.SetContent(x+c, y+r, ' ', nil, tcell.StyleDefault)
		}
		if n > lines {
			continue
		}
		st := numStyle
		if n == cur+1 {
			st = tcell.StyleDefault.Foreground(tcell.ColorYellow)
		}
		mark := ' '
		if e.ui.errLines[n] {
			st = tcell.StyleDefault.Foreground(tcell.ColorWhite).Background(tcell.ColorRed)
			mark = '!'
		}
		num := strconv.Itoa(n)
		for i, ch := range num {
			scr.SetContent(x+gw-2-len(num)+i, y+r, ch, nil, st)
		}
		scr.SetContent(x+gw-2, y+r, mark, nil, st)
	}
}
