package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestReplicateSameResultsForAnyWorkerCount(t *testing.T) {
	run := func(i int) (string, error) {
		e := New(Limits{})
		s := NewStream(uint64(i), "r")
		var k Kind
		k = e.Register("x", func(ev Event) {
			if ev.A < 200 {
				e.Schedule(ev.At+int64(s.Exp(100)), k, ev.A+1, 0)
			}
		})
		e.Schedule(0, k, 0, 0)
		if err := e.RunUntilIdle(); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d:%s", e.Now(), e.TraceHash()), nil
	}
	one, err := Replicate(context.Background(), 50, 1, run)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{2, 3, 8, 100} {
		got, err := Replicate(context.Background(), 50, w, run)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(one, got) {
			t.Fatalf("workers=%d gave different results", w)
		}
	}
}

func TestReplicateReportsLowestFailingIndex(t *testing.T) {
	boom := errors.New("boom")
	_, err := Replicate(context.Background(), 20, 4, func(i int) (int, error) {
		if i == 7 || i == 13 {
			return 0, fmt.Errorf("run %d: %w", i, boom)
		}
		return i, nil
	})
	if !errors.Is(err, boom) || err.Error() != "replication 7: run 7: boom" {
		t.Fatalf("err = %v", err)
	}
}

func TestReplicateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ran := 0
	_, err := Replicate(ctx, 100, 1, func(i int) (int, error) {
		ran++
		if i == 3 {
			cancel()
		}
		return i, nil
	})
	if !errors.Is(err, context.Canceled) || ran > 6 {
		t.Fatalf("err = %v after %d runs", err, ran)
	}
}
