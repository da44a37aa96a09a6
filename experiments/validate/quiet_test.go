package validate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeLoad answers OthersBusy from a list of readings, the last one
// repeated, and counts the looks.
type fakeLoad struct {
	readings []float64
	looks    int
	err      error
}

func (f *fakeLoad) measure(ctx context.Context, d time.Duration) (float64, error) {
	if f.err != nil {
		return 0, f.err
	}
	i := min(f.looks, len(f.readings)-1)
	f.looks++
	return f.readings[i], nil
}

func TestQuietWait(t *testing.T) {
	patience := int(quietPatience / quietProbe)
	for _, tc := range []struct {
		name      string
		readings  []float64
		err       error
		looks     int // on the first wait
		nextLooks int // on a second wait
		log       string
	}{
		{"quiet at once: one look, nothing said", []float64{0.01}, nil, 1, 1, ""},
		{"at the bound is quiet", []float64{busyOthersCPUs}, nil, 1, 1, ""},
		{"busy, then quiet", []float64{1.09, 0.8, 0.02}, nil, 3, 1, "quiet after 3 s"},
		{"busy throughout: gives up, and for the rest of the suite", []float64{1.09}, nil, patience, 0, "stayed busy (1.09 CPUs"},
		{"unreadable: goes on, and stops looking", []float64{0}, errors.New("no /proc/stat"), 0, 0, "cannot tell whether the host is quiet"},
	} {
		f := &fakeLoad{readings: tc.readings, err: tc.err}
		q := &quietWait{measure: f.measure}
		var log strings.Builder
		if err := q.wait(context.Background(), &log); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if f.looks != tc.looks {
			t.Errorf("%s: %d looks, want %d", tc.name, f.looks, tc.looks)
		}
		if !strings.Contains(log.String(), tc.log) || (tc.log == "") != (log.Len() == 0) {
			t.Errorf("%s: log %q, want %q", tc.name, log.String(), tc.log)
		}
		before := f.looks
		if err := q.wait(context.Background(), &log); err != nil {
			t.Fatal(err)
		}
		if got := f.looks - before; got != tc.nextLooks {
			t.Errorf("%s: second wait looked %d times, want %d", tc.name, got, tc.nextLooks)
		}
	}
}

func TestQuietWaitStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	q := &quietWait{measure: func(context.Context, time.Duration) (float64, error) {
		cancel()
		return 2, nil
	}}
	if err := q.wait(ctx, &strings.Builder{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v, want context.Canceled", err)
	}
}

// TestStallMissOnBusyHost: a stall figure that misses while the host was
// busy says so, before the case's own mechanism; one on a quiet host,
// or a metric that is not a stall, does not.
func TestStallMissOnBusyHost(t *testing.T) {
	// Stall per sample differs by 2x; pages scanned are equal.
	psi := func(perSample float64) []Observed {
		rows := ramp(41, "psi_some_total_us", perSample)
		for i := range rows {
			rows[i]["pgscan_file"] = float64(100 * i)
		}
		return []Observed{observed(2e9, nil, rows)}
	}
	c := &Case{Name: "c", Checks: []Check{{StallSome, tolStall}, {Scanned, tolScan}},
		Misses: map[MetricID]string{StallSome: "its own reason"}}
	busy, quiet := 1.09, 0.08
	for _, tc := range []struct {
		name   string
		others *float64
		want   string
	}{
		{"busy host", &busy, "the host was busy with work not of the run (a median 1.09 CPUs"},
		{"quiet host", &quiet, ""},
		{"not measured", nil, ""},
	} {
		cr := CaseResult{OthersCPUs: tc.others, real: psi(5000), sim: psi(10000)}
		judge(c, &cr, "")
		stall, scan := cr.Metrics[0], cr.Metrics[1]
		if stall.Verdict != Miss {
			t.Fatalf("%s: stall verdict %s, want miss", tc.name, stall.Verdict)
		}
		if tc.want != "" && (!strings.HasPrefix(stall.Mechanism, tc.want) || !strings.HasSuffix(stall.Mechanism, "; its own reason")) {
			t.Errorf("%s: mechanism %q, want it to start %q and end with the case's own", tc.name, stall.Mechanism, tc.want)
		}
		if tc.want == "" && stall.Mechanism != "its own reason" {
			t.Errorf("%s: mechanism %q, want the case's own alone", tc.name, stall.Mechanism)
		}
		if scan.Verdict != Pass || scan.Mechanism != "" {
			t.Errorf("%s: pages scanned %s with %q, want a pass with no mechanism", tc.name, scan.Verdict, scan.Mechanism)
		}
	}
}
