package tui

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
)

func TestColumnMapsTimeToSamples(t *testing.T) {
	ts := []float64{0.1, 0.2, 0.3, 0.4} // a 1 s run sampled to 0.4 s so far
	for _, tc := range []struct{ c, w, want int }{
		{0, 10, 0},  // [0, 0.1]: the sample at 0.1
		{1, 10, 1},  // (0.1, 0.2]
		{3, 10, 3},  // (0.3, 0.4]
		{4, 10, 3},  // starts at 0.4: the last sample
		{5, 10, -1}, // starts at 0.5: not reached yet
		{0, 2, 3},   // [0, 0.5]: the last sample before 0.5
		{1, 2, -1},
	} {
		if got := column(ts, 1, tc.c, tc.w); got != tc.want {
			t.Errorf("column(%d of %d) = %d, want %d", tc.c, tc.w, got, tc.want)
		}
	}
	if column(nil, 1, 0, 10) != -1 || column(ts, 0, 0, 10) != -1 || column([]float64{0.5}, 1, 0, 10) != -1 {
		t.Error("no samples, no span, or a first sample past the column: want -1")
	}
}

// screen is a simulated screen of w x h for drawing tests.
func screen(t *testing.T, w, h int) tcell.SimulationScreen {
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	s.SetSize(w, h)
	return s
}

func cell(s tcell.SimulationScreen, x, y int) (rune, tcell.Color, tcell.Color) {
	str, st, _ := s.Get(x, y)
	fg, bg, _ := st.Decompose()
	r := ' '
	if str != "" {
		r = []rune(str)[0]
	}
	return r, fg, bg
}

func TestStackedAreaSharesACellBetweenTwoLayers(t *testing.T) {
	s := screen(t, 1, 2)
	colors := []tcell.Color{tcell.ColorRed, tcell.ColorBlue}
	// Two rows = 16 eighths; layer 0 fills 10/16, layer 1 the other 6.
	stackedArea(s, 0, 0, 1, 2, []float64{1}, 1, [][]float64{{10}, {6}}, colors, 16)
	if r, fg, _ := cell(s, 0, 1); r != '█' || fg != tcell.ColorRed {
		t.Errorf("bottom cell %q %v, want a full red block", r, fg)
	}
	if r, fg, bg := cell(s, 0, 0); r != '▂' || fg != tcell.ColorRed || bg != tcell.ColorBlue {
		t.Errorf("top cell %q fg %v bg %v, want 2/8 red below blue", r, fg, bg)
	}
	// Half full: the top row is empty.
	stackedArea(s, 0, 0, 1, 2, []float64{1}, 1, [][]float64{{4}, {4}}, colors, 16)
	if r, _, _ := cell(s, 0, 0); r != ' ' {
		t.Errorf("top cell %q, want empty", r)
	}
	if r, fg, bg := cell(s, 0, 1); r != '▄' || fg != tcell.ColorRed || bg != tcell.ColorBlue {
		t.Errorf("bottom cell %q fg %v bg %v, want half red below blue", r, fg, bg)
	}
}

func TestLineChartDrawsBrailleDots(t *testing.T) {
	s := screen(t, 2, 1)
	lineChart(s, 0, 0, 2, 1, []float64{0.25, 0.5, 0.75, 1}, 1, [][]float64{{0, 0, 1, 1}}, []tcell.Color{tcell.ColorGreen}, 1)
	left, _, _ := cell(s, 0, 0)
	right, fg, _ := cell(s, 1, 0)
	// Left cell: both dot columns at the bottom row (0x40|0x80);
	// right: a vertical join from bottom to top in its first dot column
	// (0x01|0x02|0x04|0x40) and the top dot of the second (0x08).
	if left != 0x2800+0x40+0x80 || right != 0x2800+0x01+0x02+0x04+0x40+0x08 || fg != tcell.ColorGreen {
		t.Errorf("braille %U %U (%v)", left, right, fg)
	}
}

func TestIntervalBarAndSparkline(t *testing.T) {
	s := screen(t, 11, 2)
	intervalBar(s, 0, 0, 11, 0.5, 0.3, 0.7, tcell.ColorWhite)
	var b strings.Builder
	for x := range 11 {
		r, _, _ := cell(s, x, 0)
		b.WriteRune(r)
	}
	if got := b.String(); got != "───══┃══───" {
		t.Errorf("interval bar %q", got)
	}
	sparkline(s, 0, 1, 3, []float64{9, 0, 4, 8}, 8, tcell.ColorWhite)
	b.Reset()
	for x := range 3 {
		r, _, _ := cell(s, x, 1)
		b.WriteRune(r)
	}
	if got := b.String(); got != " ▄█" {
		t.Errorf("sparkline %q: the last 3 values on a scale of 8", got)
	}
}
