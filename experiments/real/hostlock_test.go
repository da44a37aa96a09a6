package real

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLockFileSerializes: a second holder waits, says so once, and gets
// the lock when the first lets go; cancelling its wait ends it with the
// context's error.
func TestLockFileSerializes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := lockFile(context.Background(), path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*lockPoll)
	defer cancel()
	if _, err := lockFile(ctx, path, io.Discard); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while held: %v, want the deadline", err)
	}
	var log strings.Builder
	got := make(chan error, 1)
	go func() {
		u, err := lockFile(context.Background(), path, &log)
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(2 * lockPoll)
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter did not get the lock after it was released")
	}
	if n := strings.Count(log.String(), "waiting"); n != 1 {
		t.Errorf("the waiter said it waits %d times, want once: %q", n, log.String())
	}
}
