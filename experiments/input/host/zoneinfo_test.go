package host

import (
	"slices"
	"strings"
	"testing"
)

func TestParseZoneinfo(t *testing.T) {
	zones, err := ReadZoneinfo(fakeHost)
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != 5 {
		t.Fatalf("%d zones, want 5", len(zones))
	}
	dma := zones[0]
	if dma.Name != "DMA" || dma.Node != 0 || dma.Managed != 3840 || dma.Present != 3998 ||
		dma.Spanned != 4095 || dma.StartPFN != 1 || dma.Wmark.Min != 49 {
		t.Errorf("DMA parsed as %+v", dma)
	}
	if want := []int64{0, 3018, 5066, 5066, 5066}; !slices.Equal(dma.Protection, want) {
		t.Errorf("DMA protection %v, want %v", dma.Protection, want)
	}
	normal := zones[2]
	if len(normal.PCPs) != 2 || normal.PCPs[1].CPU != 1 || normal.PCPs[1].Batch != 63 || normal.PCPs[1].HighMin != 4255 || normal.PCPs[1].HighMax != 32768 {
		t.Errorf("Normal pagesets parsed as %+v", normal.PCPs)
	}
	if _, err := ParseZoneinfo(strings.NewReader("Node 0, zone DMA\n  pages free x\n")); err == nil {
		t.Error("a malformed number parsed without error")
	}
}
