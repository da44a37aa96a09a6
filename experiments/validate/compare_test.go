package validate

import (
	"math"
	"strings"
	"testing"
)

// runsWith builds runs whose metric m measures as the given values
// (NaN: the run has none), through the first-kill time for FirstOOM and
// the pages scanned otherwise.
func runsWith(m MetricID, vals ...float64) []Observed {
	var out []Observed
	for _, v := range vals {
		switch {
		case m == FirstOOM && math.IsNaN(v):
			out = append(out, observed(10e9, nil, nil))
		case m == FirstOOM:
			out = append(out, observed(10e9, kill(int64(v*1e9), "app", 0, 0), nil))
		default:
			out = append(out, observed(10e9, nil, []map[string]float64{{"pgscan_file": v}}))
		}
	}
	return out
}

func TestCompare(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name       string
		m          MetricID
		tol        Tolerance
		real, sim  []float64
		verdict    string
		errRel     float64 // NaN: none
		errAbs     float64 // NaN: none
		realMedian float64
	}{
		{"within 10 %", FirstOOM, Tolerance{Rel: 0.10}, []float64{10, 9, 11, 10.5, 9.5}, []float64{10.9, 10.9, 10.9}, Pass, 0.09, 0.9, 10},
		{"outside 10 %", FirstOOM, Tolerance{Rel: 0.10}, []float64{10, 9, 11}, []float64{8.9}, Miss, -0.11, -1.1, 10},
		{"relative fails, absolute holds", Scanned, Tolerance{Rel: 0.3, Abs: 4096}, []float64{1000}, []float64{4000}, Pass, 3, 3000, 1000},
		{"both fail", Scanned, Tolerance{Rel: 0.3, Abs: 4096}, []float64{1000}, []float64{6000}, Miss, 5, 5000, 1000},
		{"real zero: absolute only", Scanned, Tolerance{Rel: 0.3, Abs: 100}, []float64{0, 0, 0}, []float64{50}, Pass, nan, 50, 0},
		{"no kill on either side", FirstOOM, Tolerance{Rel: 0.10}, []float64{nan, nan}, []float64{nan, nan}, Pass, nan, nan, nan},
		{"kill on one side only", FirstOOM, Tolerance{Rel: 0.10}, []float64{5, 5, nan}, []float64{nan, nan, nan}, Miss, nan, nan, 5},
		{"the median of the runs with a kill", FirstOOM, Tolerance{Rel: 0.10}, []float64{5, 7, nan, 6, 100}, []float64{6.5}, Pass, 0.0, 0.0, 6.5},
	} {
		r := compare(Check{tc.m, tc.tol}, runsWith(tc.m, tc.real...), runsWith(tc.m, tc.sim...))
		if r.Verdict != tc.verdict {
			t.Errorf("%s: verdict %s (%s), want %s", tc.name, r.Verdict, r.Reason, tc.verdict)
		}
		checkPtr(t, tc.name+": error_rel", r.ErrRel, tc.errRel)
		checkPtr(t, tc.name+": error_abs", r.ErrAbs, tc.errAbs)
		checkPtr(t, tc.name+": real median", r.Real.Median, tc.realMedian)
	}
}

func checkPtr(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	switch {
	case math.IsNaN(want) && got != nil:
		t.Errorf("%s = %v, want none", what, *got)
	case !math.IsNaN(want) && got == nil:
		t.Errorf("%s: none, want %v", what, want)
	case got != nil && math.Abs(*got-want) > 1e-9:
		t.Errorf("%s = %v, want %v", what, *got, want)
	}
}

func TestCompareVictim(t *testing.T) {
	runs := func(comms ...string) []Observed {
		var out []Observed
		for _, c := range comms {
			if c == "" {
				out = append(out, observed(1e9, nil, nil))
				continue
			}
			out = append(out, observed(1e9, kill(5e8, c, 0, 0), nil))
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		real, sim []string
		verdict   string
		realMode  string
	}{
		{"same victim", []string{"agent", "agent", "batch"}, []string{"agent"}, Pass, "agent"},
		{"other victim", []string{"agent", "agent"}, []string{"batch", "batch"}, Miss, "agent"},
		{"a tie goes to the first name", []string{"b", "a"}, []string{"a"}, Pass, "a"},
		{"no kill is a victim of none", []string{"", ""}, []string{""}, Pass, "none"},
	} {
		r := compare(Check{Victim, Tolerance{}}, runs(tc.real...), runs(tc.sim...))
		if r.Verdict != tc.verdict || r.Real.Mode != tc.realMode {
			t.Errorf("%s: verdict %s, real mode %q; want %s, %q", tc.name, r.Verdict, r.Real.Mode, tc.verdict, tc.realMode)
		}
	}
}

func TestCaseVerdict(t *testing.T) {
	mr := func(vs ...string) []MetricResult {
		var out []MetricResult
		for _, v := range vs {
			out = append(out, MetricResult{Verdict: v})
		}
		return out
	}
	for _, tc := range []struct {
		in   []MetricResult
		want string
	}{
		{mr(Pass, Pass), Pass}, {mr(Pass, Miss), Miss}, {mr(Skipped, Skipped), Skipped}, {mr(Skipped, Pass), Pass}, {mr(Skipped, Miss), Miss},
	} {
		if got := caseVerdict(tc.in); got != tc.want {
			t.Errorf("caseVerdict(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	res := mr(Pass, Skipped)
	notSimulated(res, "no thp model")
	if res[0].Verdict != Miss || res[0].Reason != "not yet simulated: no thp model" || res[1].Verdict != Skipped {
		t.Errorf("notSimulated: %+v", res)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{formatTolerance(FirstOOM, Tolerance{Rel: 0.1}), "10 %"},
		{formatTolerance(AnonAtKill, Tolerance{Rel: 0.15, Abs: 16}), "15 % or 16 MiB"},
		{formatTolerance(Victim, Tolerance{}), "equal"},
		{formatError(MetricResult{Metric: FirstOOM, Unit: "s", ErrRel: ptr(-0.031), ErrAbs: ptr(-0.25)}), "-3.1 % (-0.25 s)"},
		{formatError(MetricResult{Metric: Scanned, Unit: "pages", ErrAbs: ptr(50)}), "+50 pages"},
		{formatSide(AnonAtKill, &Side{Runs: 5, N: 4, Median: ptr(200), Min: ptr(190.25), Max: ptr(210)}), "200.0 [190.2, 210.0] 4/5"},
		{formatSide(Victim, &Side{Runs: 5, N: 5, Mode: "agent", Counts: map[string]int{"agent": 4, "batch": 1}}), "agent (4/5)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func ptr(x float64) *float64 { return &x }

// TestBuddyNote: the free blocks of huge-page order are counted from
// /proc/buddyinfo over every zone.
func TestBuddyNote(t *testing.T) {
	info := "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n" +
		"Node 0, zone   Normal  18479   7344   4840    250    898    468    320    305    756    434   3942 \n"
	cr := &CaseResult{RealRuns: []RunRecord{{Buddyinfo: info}}}
	got := buddyNote(cr)
	for _, want := range []string{"435 free order-9 and 3945 order-10 blocks", "The host was not fragmented"} {
		if !strings.Contains(got, want) {
			t.Errorf("buddyNote = %q, want it to say %q", got, want)
		}
	}
	if buddyNote(&CaseResult{}) != "" {
		t.Error("a note without real runs")
	}
}
