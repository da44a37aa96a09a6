package arena_test

import (
	"fmt"

	"github.com/sbmpsim/sbmpsim/sbmp/arena"
)

// A Heap serves real memory through SBMP, from any goroutine.
func ExampleHeap() {
	h, err := arena.NewHeap(arena.Options{Arena: arena.ArenaConfig{SizeBytes: 64 << 20}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	b := h.Alloc(64) // a Tier-0 slot: not zeroed, as malloc
	copy(b, "hello, arena")
	fmt.Println(string(b[:12]), len(b), cap(b))
	if err := h.Free(b); err != nil {
		fmt.Println(err)
	}
	// Output: hello, arena 64 64
}
