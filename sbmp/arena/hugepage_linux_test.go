package arena

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/sbmpsim/sbmpsim/sbmp"
)

// vmFlags returns the VmFlags of the mapping of this process that holds
// addr, from /proc/self/smaps ("hg" is VM_HUGEPAGE, "nh" VM_NOHUGEPAGE).
func vmFlags(t *testing.T, addr uintptr) []string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= l && uint64(addr) < h
			continue
		}
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return nil
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// TestArenaHugepage: with Hugepage, a Tier-1 block (huge order, no-retry)
// is madvised MADV_HUGEPAGE and the mark comes off when it is freed;
// other blocks are never marked, nor is anything without Hugepage.
func TestArenaHugepage(t *testing.T) {
	a := newTestArena(t, ArenaConfig{SizeBytes: 2 * TopBlockBytes, Hugepage: true})
	ptr := func(addr uint64) uintptr { return uintptr(unsafe.Pointer(&a.Bytes(addr, 1)[0])) }
	tier1, _, _, ok := a.AllocPages(0, 0, HugeOrder, sbmp.PageNoRetry)
	if !ok {
		t.Fatal("alloc failed")
	}
	if fl := vmFlags(t, ptr(tier1)); !hasFlag(fl, "hg") {
		t.Errorf("a Tier-1 block's VmFlags %v lack hg (MADV_HUGEPAGE)", fl)
	}
	other, _, _, ok := a.AllocPages(0, 0, HugeOrder, 0)
	if !ok {
		t.Fatal("alloc failed")
	}
	small, _, _, ok := a.AllocPages(0, 0, HugeOrder-1, sbmp.PageNoRetry)
	if !ok {
		t.Fatal("alloc failed")
	}
	for _, addr := range []uint64{other, small} {
		if fl := vmFlags(t, ptr(addr)); hasFlag(fl, "hg") {
			t.Errorf("block %#x is marked hg (%v): only Tier-1 blocks of huge order are", addr, fl)
		}
	}
	a.FreePages(0, tier1, HugeOrder)
	if fl := vmFlags(t, ptr(tier1)); hasFlag(fl, "hg") || !hasFlag(fl, "nh") {
		t.Errorf("a freed Tier-1 block's VmFlags %v: want nh, not hg", fl)
	}
	if got := a.Stats().HugepageBlocks; got != 1 {
		t.Errorf("HugepageBlocks %d, want 1", got)
	}
	plain := newTestArena(t, ArenaConfig{SizeBytes: TopBlockBytes})
	addr, _, _, _ := plain.AllocPages(0, 0, HugeOrder, sbmp.PageNoRetry)
	if fl := vmFlags(t, uintptr(unsafe.Pointer(&plain.Bytes(addr, 1)[0]))); hasFlag(fl, "hg") {
		t.Errorf("an arena without Hugepage marked a block hg: %v", fl)
	}
}
