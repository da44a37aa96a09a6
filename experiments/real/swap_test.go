package real

import (
	"encoding/binary"
	"testing"
)

// TestSwapHeader checks the header against the layout of union
// swap_header (include/linux/swap.h), which swapon(2) reads: version 1
// at byte 1024, last_page after it, no bad pages, SWAPSPACE2 ending the
// page.
func TestSwapHeader(t *testing.T) {
	h, err := swapHeader(4096)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != pageBytes || string(h[pageBytes-10:]) != "SWAPSPACE2" {
		t.Fatalf("magic %q", h[pageBytes-10:])
	}
	if v, last, bad := binary.NativeEndian.Uint32(h[1024:]), binary.NativeEndian.Uint32(h[1028:]), binary.NativeEndian.Uint32(h[1032:]); v != 1 || last != 4095 || bad != 0 {
		t.Fatalf("version %d, last_page %d, nr_badpages %d", v, last, bad)
	}
	for i, b := range h[:1024] {
		if b != 0 {
			t.Fatalf("boot block byte %d = %d", i, b)
		}
	}
}
