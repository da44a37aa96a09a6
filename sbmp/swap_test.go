package sbmp

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestSwitcherStateMachine allocates and frees across random swaps of the
// allocator and its policies, and checks that no address is live twice,
// every free reaches its owner, and each allocator's books balance.
func TestSwitcherStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := newFakeEnv(2, 2, 6<<9)
		newAlloc := func(t *rapid.T) *Allocator {
			a, err := New(f.env(), Config{
				Tier0CapacitySlots: rapid.IntRange(2, 32).Draw(t, "capacity"),
				Merge:              LazyThresholdMerge{Threshold: rapid.IntRange(1, 8).Draw(t, "threshold")},
				Refill:             &FixedBatchRefill{Slots: rapid.IntRange(1, 16).Draw(t, "batch")},
			})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		s := NewSwitcher(newAlloc(t))
		live := map[uint64]int64{}
		var order []uint64
		t.Repeat(map[string]func(*rapid.T){
			"alloc": func(t *rapid.T) {
				size := rapid.SampledFrom([]int64{64, 256, 1024, 20_000}).Draw(t, "size")
				cpu := rapid.IntRange(0, 1).Draw(t, "cpu")
				for range rapid.IntRange(1, 100).Draw(t, "n") {
					r := s.Alloc(cpu, size)
					if !r.OK {
						return
					}
					if _, dup := live[r.Addr]; dup {
						t.Fatalf("%#x live twice", r.Addr)
					}
					live[r.Addr] = size
					order = append(order, r.Addr)
				}
			},
			"free": func(t *rapid.T) {
				for range rapid.IntRange(1, 100).Draw(t, "n") {
					if len(order) == 0 {
						return
					}
					i := rapid.IntRange(0, len(order)-1).Draw(t, "i")
					addr := order[i]
					order = slices.Delete(order, i, i+1)
					size := live[addr]
					delete(live, addr)
					if _, err := s.Free(rapid.IntRange(0, 1).Draw(t, "cpu"), addr, size); err != nil {
						t.Fatal(err)
					}
				}
			},
			"swap allocator": func(t *rapid.T) {
				if len(s.Allocators()) >= 4 {
					t.Skip("enough allocators")
				}
				s.Swap(newAlloc(t))
			},
			"swap policy": func(t *rapid.T) {
				s.Current().SetPolicies(LazyThresholdMerge{Threshold: rapid.IntRange(1, 8).Draw(t, "threshold")}, &FixedBatchRefill{Slots: rapid.IntRange(1, 16).Draw(t, "batch")}, nil)
			},
			"": func(t *rapid.T) {
				// Each allocator's books balance over the objects it owns.
				owned := make([]map[uint64]int64, len(s.owner))
				for i := range owned {
					owned[i] = map[uint64]int64{}
				}
				for addr, size := range live {
					n := 0
					for i, a := range s.owner {
						if a.Owns(addr, size) {
							owned[i][addr] = size
							n++
						}
					}
					if n != 1 {
						t.Fatalf("%#x owned by %d allocators", addr, n)
					}
				}
				for i, a := range s.owner {
					if err := checkAllocatorOwned(a, owned[i]); err != nil {
						t.Fatalf("allocator %d: %v", i, err)
					}
				}
			},
		})
	})
}
