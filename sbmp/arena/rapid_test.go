package arena

import (
	"testing"

	"pgregory.net/rapid"
)

// TestArenaStateMachine allocates and frees blocks of random orders,
// writes a tag into the first and last byte of each block, and after every
// step checks the arena's books and that no block's bytes were overwritten
// by another's (which overlapping blocks would do).
func TestArenaStateMachine(t *testing.T) {
	a, err := NewArena(ArenaConfig{SizeBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rapid.Check(t, func(t *rapid.T) {
		type blk struct {
			addr  uint64
			order int
			tag   byte
		}
		var live []blk
		tag := byte(0)
		defer func() {
			for _, b := range live {
				a.FreePages(0, b.addr, b.order)
			}
		}()
		t.Repeat(map[string]func(*rapid.T){
			"alloc": func(t *rapid.T) {
				order := rapid.IntRange(0, 10).Draw(t, "order")
				addr, _, _, ok := a.AllocPages(0, 0, order, 0)
				if !ok {
					t.Skip("arena full")
				}
				if addr%(4096<<order) != 0 {
					t.Fatalf("order-%d block at %#x is misaligned", order, addr)
				}
				tag++
				p := a.Bytes(addr, 4096<<order)
				p[0], p[len(p)-1] = tag, tag
				live = append(live, blk{addr, order, tag})
			},
			"free": func(t *rapid.T) {
				if len(live) == 0 {
					t.Skip("nothing live")
				}
				i := rapid.IntRange(0, len(live)-1).Draw(t, "i")
				b := live[i]
				live = append(live[:i], live[i+1:]...)
				a.FreePages(0, b.addr, b.order)
			},
			"": func(t *rapid.T) {
				for _, b := range live {
					p := a.Bytes(b.addr, 4096<<b.order)
					if p[0] != b.tag || p[len(p)-1] != b.tag {
						t.Fatalf("block %#x (order %d) was overwritten", b.addr, b.order)
					}
				}
				if err := a.check(); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}
