package real

import (
	"testing"
	"time"
)

// TestPacer: a queued worker owes what a stall delayed; a closed one
// does not issue the work that would have come while it was blocked.
func TestPacer(t *testing.T) {
	begin := time.Unix(1000, 0)
	for _, tt := range []struct {
		loop string
		want int64
	}{{"closed", 600}, {"queued", 1000}, {"ignore", 1000}} {
		p := newPacer(begin, 1000, tt.loop) // 1000 per second
		p.worked(tick / 2)                  // an ordinary tick: no stall
		p.worked(400*time.Millisecond + tick)
		if got := p.due(begin.Add(time.Second)); got != tt.want {
			t.Errorf("%s: due after 1 s with a 400 ms stall = %d, want %d", tt.loop, got, tt.want)
		}
	}
}
