package queueing

import (
	"math"
	"testing"
)

// t99 holds two-sided 99 % Student t quantiles t(0.995, df).
var t99 = map[int]float64{19: 2.861, 29: 2.756, 39: 2.708}

func TestErlangCKnownValues(t *testing.T) {
	// Check values from REFERENCE.md (mu = 1), and M/M/1 where C = rho.
	tests := []struct {
		c        int
		a        float64
		wantC    float64
		wantWq   float64
		tolerate float64
	}{
		{1, 0.5, 0.5, 1, 1e-12},
		{1, 0.9, 0.9, 9, 1e-9},
		{2, 1, 1.0 / 3, 1.0 / 3, 1e-4},
		{3, 2, 0.4444, 0.4444, 1e-4},
		{4, 3, 0.5094, 0.5094, 1e-4},
		{10, 8, 0.4092, 0.2046, 1e-4},
	}
	for _, tt := range tests {
		c, wq := ErlangC(tt.c, tt.a)
		if math.Abs(c-tt.wantC) > tt.tolerate || math.Abs(wq-tt.wantWq) > tt.tolerate {
			t.Errorf("ErlangC(%d, %g) = (%.5f, %.5f), want (%.4f, %.4f)", tt.c, tt.a, c, wq, tt.wantC, tt.wantWq)
		}
	}
}

// TestMMcMatchesAnalytic is how we know the engine is right: independent
// replications of M/M/1 and M/M/c queues built on sim must bracket the
// analytic mean wait in queue (Erlang C) with a 99 % confidence interval.
func TestMMcMatchesAnalytic(t *testing.T) {
	const (
		meanServiceNs = 1e6 // 1 ms, so rounding to whole ns is negligible
		reps          = 30
	)
	tests := []struct {
		name      string
		c         int
		rho       float64
		customers int
	}{
		{"M/M/1 rho=0.5", 1, 0.5, 50_000},
		{"M/M/1 rho=0.8", 1, 0.8, 100_000},
		{"M/M/1 rho=0.9", 1, 0.9, 200_000},
		{"M/M/2 a=1", 2, 0.5, 50_000},
		{"M/M/3 a=2", 3, 2.0 / 3, 50_000},
		{"M/M/4 a=3", 4, 0.75, 80_000},
		{"M/M/10 a=8", 10, 0.8, 80_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The interval must be tight enough to mean something: 5 % of
			// Wq at full length. Under -short the runs are 5 times shorter,
			// so the interval is sqrt(5) times wider, and so is its bound.
			customers, precision := tt.customers, 0.05
			if testing.Short() {
				customers /= 5
				precision *= math.Sqrt(5)
			}
			a := tt.rho * float64(tt.c)
			_, wqUnits := ErlangC(tt.c, a)
			want := wqUnits * meanServiceNs
			var sum, sumSq float64
			for r := range reps {
				res, err := RunMMc(MMcConfig{
					Servers:       tt.c,
					MeanArrivalNs: meanServiceNs / a,
					MeanServiceNs: meanServiceNs,
					Customers:     customers,
					WarmUp:        customers / 10,
					Seed:          uint64(1000*tt.c + r + 1),
				})
				if err != nil {
					t.Fatal(err)
				}
				sum += res.WqMeanNs
				sumSq += res.WqMeanNs * res.WqMeanNs
			}
			mean := sum / reps
			sd := math.Sqrt((sumSq - reps*mean*mean) / (reps - 1))
			half := t99[reps-1] * sd / math.Sqrt(reps)
			t.Logf("Wq = %.4f ms ± %.4f (99%%), analytic %.4f ms", mean/1e6, half/1e6, want/1e6)
			if math.Abs(mean-want) > half {
				t.Errorf("analytic Wq %.4f ms outside 99%% CI %.4f ± %.4f ms", want/1e6, mean/1e6, half/1e6)
			}
			if half > precision*want {
				t.Errorf("CI half-width %.4f ms is over %.1f%% of Wq %.4f ms: runs too short", half/1e6, 100*precision, want/1e6)
			}
		})
	}
}

// TestLittlesLaw checks L = lambda * W on the measured span of one long run.
func TestLittlesLaw(t *testing.T) {
	res, err := RunMMc(MMcConfig{Servers: 2, MeanArrivalNs: 1e6 / 1.5, MeanServiceNs: 1e6, Customers: 200_000, WarmUp: 10_000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	lw := res.ArrivalRate * res.WMeanNs
	if math.Abs(res.LTimeAvg-lw)/lw > 0.01 {
		t.Errorf("L = %.4f, lambda*W = %.4f: Little's law off by more than 1%%", res.LTimeAvg, lw)
	}
}

func TestRunMMcDeterministic(t *testing.T) {
	cfg := MMcConfig{Servers: 3, MeanArrivalNs: 500, MeanServiceNs: 1000, Customers: 10_000, WarmUp: 100, Seed: 42}
	a, err := RunMMc(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RunMMc(cfg)
	if a != b {
		t.Fatalf("same config, different results:\n%+v\n%+v", a, b)
	}
	cfg.Seed++
	c, _ := RunMMc(cfg)
	if c.TraceHash == a.TraceHash {
		t.Fatal("different seeds gave the same trace hash")
	}
	if a.Events != 2*int64(cfg.Customers+cfg.WarmUp) {
		t.Fatalf("events = %d, want 2 per customer = %d", a.Events, 2*(cfg.Customers+cfg.WarmUp))
	}
}

// TestTightMMcEqualsEngine: the single-purpose loop and the engine model
// draw the same streams in the same order, so every statistic must be
// equal, bit for bit. A difference means the engine ran events out of time
// order. (M/M/c statistics do not depend on the order of simultaneous
// events, so the FIFO tie rule is checked in sim's own tests instead.)
func TestTightMMcEqualsEngine(t *testing.T) {
	for _, cfg := range []MMcConfig{
		{Servers: 1, MeanArrivalNs: 1000 / 0.9, MeanServiceNs: 1000, Customers: 100_000, Seed: 1},
		{Servers: 3, MeanArrivalNs: 400, MeanServiceNs: 1000, Customers: 50_000, WarmUp: 5_000, Seed: 2},
		// Means of a few ns put many events in each bucket of the queue.
		{Servers: 2, MeanArrivalNs: 2, MeanServiceNs: 3, Customers: 50_000, WarmUp: 100, Seed: 3},
		// Hundreds of busy servers keep hundreds of departures pending, so
		// the ladder queue's rungs, not only its small-queue path, run.
		{Servers: 500, MeanArrivalNs: 1000.0 / 450, MeanServiceNs: 1000, Customers: 200_000, Seed: 4},
	} {
		eng, err := RunMMc(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tight := TightMMc(cfg)
		eng.Events, eng.TraceHash = 0, ""
		if eng != tight {
			t.Errorf("%+v:\nengine %+v\ntight  %+v", cfg, eng, tight)
		}
	}
}
