package validate

import (
	"math"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// observed builds a run by hand: samples every 50 ms, each row giving
// the named columns' values (counters since the start), and its kills.
func observed(endNs int64, kills []world.OOMEvent, rows []map[string]float64) Observed {
	ts := world.Timeseries{Columns: append([]string{"time_ns"}, seriesColumns...)}
	for i, r := range rows {
		row := []float64{float64(int64(i) * gridStepNs)}
		for _, c := range seriesColumns {
			row = append(row, r[c])
		}
		ts.Rows = append(ts.Rows, row)
	}
	s, err := newSeries(&ts)
	if err != nil {
		panic(err)
	}
	return Observed{EndNs: endNs, Kills: kills, series: s}
}

// ramp is n rows in which column c grows by perRow each sample, from 0.
func ramp(n int, c string, perRow float64) []map[string]float64 {
	rows := make([]map[string]float64, n)
	for i := range rows {
		rows[i] = map[string]float64{c: perRow * float64(i)}
	}
	return rows
}

func kill(ns int64, comm string, anonMiB, fileMiB int64) []world.OOMEvent {
	return []world.OOMEvent{{TimeNs: ns, VictimComm: comm, ScopeAnonPages: anonMiB << 8, ScopeFilePages: fileMiB << 8}}
}

func TestMeasure(t *testing.T) {
	// 41 samples, 0..2 s; pgscan_file grows 100 pages a sample.
	scan := observed(2e9, kill(1e9, "app", 200, 12), ramp(41, "pgscan_file", 100))
	noKill := observed(2e9, nil, ramp(41, "psi_some_total_us", 5000))
	noKill.EndAnonPages, noKill.EndFilePages = 100<<8, 50<<8
	for _, tc := range []struct {
		name string
		o    Observed
		m    MetricID
		want Value
	}{
		{"first kill in seconds", scan, FirstOOM, num(1)},
		{"no kill: no first kill", noKill, FirstOOM, Value{}},
		{"the victim's comm", scan, Victim, text("app")},
		{"no kill: victim none", noKill, Victim, text("none")},
		{"anon at the kill", scan, AnonAtKill, num(200)},
		{"file at the kill", scan, FileAtKill, num(12)},
		{"no kill: anon at the end", noKill, AnonAtKill, num(100)},
		{"no kill: file at the end", noKill, FileAtKill, num(50)},
		// Up to the kill at 1 s: the sample at 1 s is the 21st.
		{"counters stop at the first kill", scan, Scanned, num(2000)},
		{"no kill: counters to the end", noKill, StallSome, num(200)},
		{"absent counters are zero", scan, THPFallback, num(0)},
	} {
		got := tc.o.Measure(tc.m)
		if got != tc.want {
			t.Errorf("%s: %s = %+v, want %+v", tc.name, tc.m, got, tc.want)
		}
	}
}

func TestMeasureSums(t *testing.T) {
	rows := []map[string]float64{{}, {"pgscan_anon": 10, "pgscan_file": 20, "pgsteal_anon": 1, "pgsteal_file": 2,
		"workingset_refault_anon": 3, "workingset_refault_file": 4, "pswpout": 5, "psi_full_total_us": 7000, "thp_fault_alloc": 9}}
	o := observed(50e6, nil, rows)
	for m, want := range map[MetricID]float64{Scanned: 30, Stolen: 3, Refaults: 7, SwappedOut: 5, StallFull: 7, THPAlloc: 9} {
		if got := o.Measure(m); got != num(want) {
			t.Errorf("%s = %+v, want %v", m, got, want)
		}
	}
}

// TestThrash: the thrash starts at the first sample whose refaults over
// the last 250 ms reach 2560 pages/s, and lasts to the first kill (or
// the end).
func TestThrash(t *testing.T) {
	// 3 s of samples. Refaults: none for 1 s, then 200 pages a sample
	// (4000/s) from the sample at 1 s on.
	rows := make([]map[string]float64, 61)
	total := 0.0
	for i := range rows {
		if i > 20 {
			total += 200
		}
		rows[i] = map[string]float64{"workingset_refault_file": total}
	}
	// The window ending at sample i spans 5 samples; by the sample at
	// 1.2 s (i = 24) four of them carry 200: 800 pages over 0.25 s is
	// 3200/s, past 2560; at i = 23, 600 / 0.25 s = 2400/s is not.
	for _, tc := range []struct {
		name  string
		endNs int64
		kills []world.OOMEvent
		want  float64
	}{
		{"to the kill", 3e9, kill(2.5e9, "db", 0, 0), 1.3},
		{"to the end without a kill", 3e9, nil, 1.8},
		{"killed before the thrash", 3e9, kill(0.5e9, "db", 0, 0), 0},
	} {
		o := observed(tc.endNs, tc.kills, rows)
		if got := o.Measure(Thrash).Num; math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: thrash %v s, want %v", tc.name, got, tc.want)
		}
	}
	slow := observed(3e9, nil, ramp(61, "workingset_refault_file", 100)) // 2000/s: below the threshold
	if got := slow.Measure(Thrash).Num; got != 0 {
		t.Errorf("refaulting at 2000 pages/s counted as thrash: %v s", got)
	}
}
