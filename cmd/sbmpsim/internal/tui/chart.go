package tui

import (
	"math"

	"github.com/gdamore/tcell/v2"
)

// The charts draw with the terminal's own cells: eighth blocks for
// stacked areas and sparklines, braille dots for line charts. Each
// function draws inside the rectangle it is given and nowhere else.

// eighths are the lower-eighth block characters, index n holding n/8 of
// the cell (0: a space).
var eighths = [9]rune{' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'}

// column maps column c of w to the sample to show there, for samples at
// times ts (ascending) over a time axis from 0 to span: the last sample at
// or before the column's right edge, or -1 when the run has not reached
// the column yet (its left edge is past the last sample).
func column(ts []float64, span float64, c, w int) int {
	if len(ts) == 0 || span <= 0 || w <= 0 {
		return -1
	}
	left, edge := span*float64(c)/float64(w), span*float64(c+1)/float64(w)
	if ts[0] > edge || left > ts[len(ts)-1] {
		return -1
	}
	lo, hi := 0, len(ts)-1
	for lo < hi { // the last index with ts <= edge
		mid := (lo + hi + 1) / 2
		if ts[mid] <= edge {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// stackedArea draws series stacked bottom-up (series[k][i] is layer k at
// sample i of ts) over the time axis 0..span, scaled so that top fills
// the height. A cell that two layers share shows the lower one in the
// foreground of an eighth block and the upper one as its background.
func stackedArea(scr tcell.Screen, x, y, w, h int, ts []float64, span float64, series [][]float64, colors []tcell.Color, top float64) {
	if w <= 0 || h <= 0 || top <= 0 {
		return
	}
	bounds := make([]int, len(series)) // cumulative height in eighths
	for c := range w {
		i := column(ts, span, c, w)
		if i < 0 {
			for r := range h {
				scr.SetContent(x+c, y+r, ' ', nil, tcell.StyleDefault)
			}
			continue
		}
		var sum float64
		for k := range series {
			if i < len(series[k]) {
				sum += math.Max(series[k][i], 0)
			}
			bounds[k] = int(math.Round(math.Min(sum/top, 1) * float64(8*h)))
		}
		for r := range h { // r counts rows from the bottom
			lo := 8 * r
			layer := layerAt(bounds, lo)
			row := y + h - 1 - r
			if layer < 0 {
				scr.SetContent(x+c, row, ' ', nil, tcell.StyleDefault)
				continue
			}
			end := bounds[layer]
			st := tcell.StyleDefault.Foreground(colors[layer])
			if end >= lo+8 {
				scr.SetContent(x+c, row, '█', nil, st)
				continue
			}
			if up := layerAt(bounds, end); up >= 0 {
				st = st.Background(colors[up])
			}
			scr.SetContent(x+c, row, eighths[end-lo], nil, st)
		}
	}
}

// layerAt is the layer whose band holds height pos (in eighths), or -1
// above the stack.
func layerAt(bounds []int, pos int) int {
	for k, b := range bounds {
		if pos < b {
			return k
		}
	}
	return -1
}

// braille dot bits for the 2x4 dots of a cell, [column][row].
var brailleBits = [2][4]rune{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// lineChart draws each series (values at the times ts) as a braille line
// over the time axis 0..span and values 0..top; a cell takes the color of
// the last series that put a dot in it.
func lineChart(scr tcell.Screen, x, y, w, h int, ts []float64, span float64, series [][]float64, colors []tcell.Color, top float64) {
	if w <= 0 || h <= 0 {
		return
	}
	dots := make([]rune, w*h)
	color := make([]tcell.Color, w*h)
	dw, dh := 2*w, 4*h
	for k, s := range series {
		prev := -1
		for dx := range dw {
			i := column(ts, span, dx, dw)
			if i < 0 || i >= len(s) {
				prev = -1
				continue
			}
			dy := 0
			if top > 0 {
				dy = int(math.Round(math.Min(math.Max(s[i], 0)/top, 1) * float64(dh-1)))
			}
			from, to := dy, dy
			if prev >= 0 { // join to the previous dot column
				from, to = min(prev, dy), max(prev, dy)
			}
			for d := from; d <= to; d++ {
				row := dh - 1 - d
				cell := (row/4)*w + dx/2
				dots[cell] |= brailleBits[dx%2][row%4]
				color[cell] = colors[k]
			}
			prev = dy
		}
	}
	for r := range h {
		for c := range w {
			ch, st := ' ', tcell.StyleDefault
			if d := dots[r*w+c]; d != 0 {
				ch, st = 0x2800+d, st.Foreground(color[r*w+c])
			}
			scr.SetContent(x+c, y+r, ch, nil, st)
		}
	}
}

// sparkline draws the last w values as one row of eighth blocks scaled to
// top (the largest value when top is 0).
func sparkline(scr tcell.Screen, x, y, w int, values []float64, top float64, color tcell.Color) {
	if w <= 0 {
		return
	}
	if len(values) > w {
		values = values[len(values)-w:]
	}
	if top <= 0 {
		for _, v := range values {
			top = math.Max(top, v)
		}
	}
	st := tcell.StyleDefault.Foreground(color)
	for c := range w {
		ch := ' '
		if c < len(values) && top > 0 {
			ch = eighths[int(math.Round(math.Min(math.Max(values[c], 0)/top, 1)*8))]
		}
		scr.SetContent(x+c, y, ch, nil, st)
	}
}

// intervalBar draws a proportion p with its interval [lo, hi] on a 0..1
// axis of width w: the interval as '═', the estimate as '┃'.
func intervalBar(scr tcell.Screen, x, y, w int, p, lo, hi float64, color tcell.Color) {
	if w <= 0 {
		return
	}
	pos := func(v float64) int { return min(w-1, max(0, int(math.Round(v*float64(w-1))))) }
	st := tcell.StyleDefault.Foreground(color)
	dim := tcell.StyleDefault.Foreground(tcell.ColorGray)
	a, b, m := pos(lo), pos(hi), pos(p)
	for c := range w {
		ch, s := '─', dim
		if c >= a && c <= b {
			ch, s = '═', st
		}
		if c == m {
			ch, s = '┃', st.Bold(true)
		}
		scr.SetContent(x+c, y, ch, nil, s)
	}
}
