package kernel

import (
	"errors"
	"slices"
	"testing"
)

// TestMemswAccounting: with cgroup v1's memsw accounting a memory charge
// must also fit memory.max plus swap.max on memory plus swapped-out
// pages; a charge that hits that limit reclaims without swapping
// (may_swap cleared) and the margin is memsw's room; swap is charged as
// pages leave memory (ChargeSwapOut) and not limited per cgroup, and
// swap_full is vm_swap_full's alone.
func TestMemswAccounting(t *testing.T) {
	c := newTestCgroups(t, 1, cg{"/a", CgroupLimits{MaxPages: 100, SwapMaxPages: 20}})
	c.SetMemsw(true)
	if err := c.ChargeSwapOut("/a", 15); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.SwapAvailable("/a", 1000); n != 1000 {
		t.Errorf("SwapAvailable = %d, want the free swap (no per-cgroup limit on v1)", n)
	}
	if ok, _, _ := c.TryCharge("/a", 85); !ok {
		t.Fatal("85 pages with 15 swapped out fit memsw's 120")
	}
	if m, _ := c.Margin("/a"); m != 15 {
		t.Errorf("margin = %d, want memsw's 15 (memory's is 15 too)", m)
	}
	if ok, _, _ := c.TryCharge("/a", 10); !ok {
		t.Fatal("95 pages with 15 swapped out fit memsw's 120")
	}
	if m, _ := c.Margin("/a"); m != 5 {
		t.Errorf("margin = %d, want 5", m)
	}
	if err := c.ChargeSwapOut("/a", 10); err != nil { // past swap.max: a transfer, not limited
		t.Fatal(err)
	}
	if m, _ := c.Margin("/a"); m != 0 {
		t.Errorf("margin = %d, want 0: memory 95 and swap 25 fill memsw's 120 though memory has room for 5", m)
	}
	var maySwap []bool
	reclaim := func(r MemcgReclaim) int64 { maySwap = append(maySwap, r.MaySwap); return 0 }
	res, err := c.Charge("/a", 1, ChargeOptions{RetryMayFail: true}, reclaim)
	if err != nil || res.Charged {
		t.Fatalf("charge at the memsw limit: %+v, %v", res, err)
	}
	if len(maySwap) == 0 || slices.Contains(maySwap, true) {
		t.Errorf("reclaims at the memsw limit had may_swap %v, want all false", maySwap)
	}
	if c.swapFull(c.index["/a"]) {
		t.Error("swapFull on v1 looks at vm_swap_full only")
	}
	v2 := newTestCgroups(t, 1)
	if err := v2.ChargeSwapOut("/", 1); !errors.Is(err, ErrNoMemsw) {
		t.Errorf("ChargeSwapOut on a v2 controller: %v, want ErrNoMemsw", err)
	}
	mustInvariants(t, c)
}
