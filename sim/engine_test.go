package sim

import (
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestTiesRunInSchedulingOrder(t *testing.T) {
	e := New(Limits{})
	var got []int64
	k := e.Register("x", func(ev Event) { got = append(got, ev.A) })
	for i := range 100 {
		e.Schedule(int64(10-i%3), k, int64(i), 0)
	}
	if err := e.RunUntilIdle(); err != nil {
		t.Fatal(err)
	}
	// Expected: all events at t=8 in scheduling order, then t=9, then t=10.
	var want []int64
	for _, at := range []int{8, 9, 10} {
		for i := range 100 {
			if 10-i%3 == at {
				want = append(want, int64(i))
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order = %v\nwant    %v", got, want)
	}
}

func TestCancel(t *testing.T) {
	e := New(Limits{})
	var got []int64
	k := e.Register("x", func(ev Event) { got = append(got, ev.A) })
	a := e.Schedule(1, k, 1, 0)
	b := e.Schedule(2, k, 2, 0)
	e.Schedule(3, k, 3, 0)
	if !e.Cancel(b) {
		t.Fatal("Cancel of a pending event returned false")
	}
	if e.Cancel(b) {
		t.Fatal("second Cancel returned true")
	}
	if e.Pending() != 2 {
		t.Fatalf("Pending = %d, want 2", e.Pending())
	}
	if err := e.RunUntilIdle(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int64{1, 3}) {
		t.Fatalf("ran %v, want [1 3]", got)
	}
	if e.Cancel(a) {
		t.Fatal("Cancel of an event that ran returned true")
	}
	// The slot of a is reused; its old handle must not cancel the new event.
	c := e.Schedule(5, k, 5, 0)
	if e.Cancel(a) || e.Pending() != 1 {
		t.Fatal("a stale handle cancelled a new event")
	}
	if !e.Cancel(c) {
		t.Fatal("Cancel(c) = false")
	}
	if e.Cancel(EventID{}) {
		t.Fatal("Cancel of the zero EventID = true")
	}
}

func TestRunUntil(t *testing.T) {
	e := New(Limits{})
	n := 0
	k := e.Register("x", func(Event) { n++ })
	for _, at := range []int64{5, 10, 10, 11} {
		e.Schedule(at, k, 0, 0)
	}
	if err := e.RunUntil(10); err != nil {
		t.Fatal(err)
	}
	if n != 3 || e.Now() != 10 || e.Pending() != 1 {
		t.Fatalf("after RunUntil(10): ran %d, now %d, pending %d; want 3, 10, 1", n, e.Now(), e.Pending())
	}
	if err := e.RunUntil(100); err != nil {
		t.Fatal(err)
	}
	if e.Now() != 100 || n != 4 {
		t.Fatalf("now = %d ran %d, want 100 and 4", e.Now(), n)
	}
}

func TestLimitsStopRunawayModels(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		want   string
	}{
		{"events", Limits{MaxEvents: 1000}, "events"},
		{"time", Limits{MaxTimeNs: 5000}, "time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(tt.limits)
			var k Kind
			k = e.Register("forever", func(ev Event) { e.Schedule(ev.At+1, k, 0, 0) })
			e.Schedule(0, k, 0, 0)
			err := e.RunUntilIdle()
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimit) || le.Limit != tt.want {
				t.Fatalf("err = %v, want a %s LimitError", err, tt.want)
			}
			if e.Pending() != 1 {
				t.Fatalf("the event at the limit must stay pending, pending = %d", e.Pending())
			}
		})
	}
}

func TestScheduleInThePastPanics(t *testing.T) {
	e := New(Limits{})
	k := e.Register("x", func(Event) {})
	e.Schedule(10, k, 0, 0)
	if err := e.RunUntilIdle(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	e.Schedule(9, k, 0, 0)
}

func TestProbes(t *testing.T) {
	e := New(Limits{})
	var order []string
	a := e.Register("a", func(Event) { order = append(order, "handler a") })
	b := e.Register("b", func(Event) { order = append(order, "handler b") })
	e.Probe(a, func(ev Event) { order = append(order, "probe a") })
	e.Schedule(1, a, 0, 0)
	e.Schedule(2, b, 0, 0)
	if err := e.RunUntilIdle(); err != nil {
		t.Fatal(err)
	}
	want := []string{"probe a", "handler a", "handler b"}
	if !slices.Equal(order, want) {
		t.Fatalf("order = %v, want %v", order, want)
	}
}

func TestTraceHash(t *testing.T) {
	run := func(payload int64) string {
		e := New(Limits{})
		k := e.Register("x", func(Event) {})
		e.Schedule(1, k, 1, 2)
		e.Schedule(2, k, payload, 0)
		if err := e.RunUntilIdle(); err != nil {
			t.Fatal(err)
		}
		return e.TraceHash()
	}
	if a, b := run(3), run(3); a != b {
		t.Fatalf("same events, different hashes %s and %s", a, b)
	}
	if run(3) == run(4) {
		t.Fatal("different payloads, same hash")
	}
	if New(Limits{}).TraceHash() == run(3) {
		t.Fatal("empty run hashes like a non-empty one")
	}
}

// TestEngineMatchesReference drives the engine with random schedules,
// cancels, steps and handler-scheduled events (the replaceMin path), and
// checks every executed event against a naive reference: the pending event
// with the least (time, scheduling order).
func TestEngineMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		type ref struct {
			at, seq int64
			id      EventID
		}
		e := New(Limits{})
		var pending []ref
		var gone []EventID // run or cancelled: Cancel must say false
		var seq int64
		var k Kind
		var children []int64 // delays the next handler call schedules
		schedule := func(at int64) {
			id := e.Schedule(at, k, seq, 0)
			pending = append(pending, ref{at, seq, id})
			seq++
		}
		k = e.Register("x", func(ev Event) {
			// Check this is the least pending event of the reference.
			best := 0
			for i, r := range pending {
				if r.at < pending[best].at || (r.at == pending[best].at && r.seq < pending[best].seq) {
					best = i
				}
			}
			if pending[best].seq != ev.A || pending[best].at != ev.At {
				t.Fatalf("ran (t=%d seq=%d), reference says (t=%d seq=%d)", ev.At, ev.A, pending[best].at, pending[best].seq)
			}
			gone = append(gone, pending[best].id)
			pending = slices.Delete(pending, best, best+1)
			for _, d := range children {
				schedule(ev.At + d)
			}
			children = children[:0]
		})
		t.Repeat(map[string]func(*rapid.T){
			"schedule": func(t *rapid.T) {
				schedule(e.Now() + rapid.Int64Range(0, 20).Draw(t, "delay"))
			},
			"cancel": func(t *rapid.T) {
				if len(pending) == 0 {
					t.Skip("nothing pending")
				}
				i := rapid.IntRange(0, len(pending)-1).Draw(t, "i")
				if !e.Cancel(pending[i].id) {
					t.Fatalf("Cancel of pending seq %d failed", pending[i].seq)
				}
				gone = append(gone, pending[i].id)
				pending = slices.Delete(pending, i, i+1)
			},
			"cancel gone": func(t *rapid.T) {
				if len(gone) == 0 {
					t.Skip("nothing gone")
				}
				id := gone[rapid.IntRange(0, len(gone)-1).Draw(t, "i")]
				if e.Cancel(id) {
					t.Fatalf("Cancel of an event that ran or was cancelled returned true")
				}
			},
			"run until": func(t *rapid.T) {
				children = children[:0]
				until := e.Now() + rapid.Int64Range(0, 10).Draw(t, "ahead")
				if err := e.RunUntil(until); err != nil {
					t.Fatal(err)
				}
			},
			"step": func(t *rapid.T) {
				children = rapid.SliceOfN(rapid.Int64Range(0, 20), 0, 3).Draw(t, "children")
				had := len(pending) > 0
				ran, err := e.Step()
				if err != nil {
					t.Fatal(err)
				}
				if ran != had {
					t.Fatalf("Step ran = %v with pending = %v", ran, had)
				}
				children = children[:0]
			},
			"": func(t *rapid.T) {
				if e.Pending() != len(pending) {
					t.Fatalf("Pending = %d, reference %d", e.Pending(), len(pending))
				}
			},
		})
	})
}

// TestHoldAllocatesNothing: once the queue has reached its working size,
// running events and scheduling new ones allocates no memory.
func TestHoldAllocatesNothing(t *testing.T) {
	e := New(Limits{})
	s := NewStream(1, "hold")
	var k Kind
	k = e.Register("hold", func(ev Event) {
		e.Schedule(ev.At+int64(s.Exp(1000)), k, ev.A, ev.B)
	})
	for range 10_000 {
		e.Schedule(int64(s.Exp(1000)), k, 0, 0)
	}
	step := func() {
		if _, err := e.Step(); err != nil {
			t.Fatal(err)
		}
	}
	for range 200_000 {
		step()
	}
	if a := testing.AllocsPerRun(100_000, step); a != 0 {
		t.Fatalf("%v allocations per event", a)
	}
}
