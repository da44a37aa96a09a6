package host

import (
	"os"
	"strings"
	"testing"
)

// TestMeasureDisk times a small scratch file under a temporary
// directory: both latencies are positive and under a second, the
// readahead cost is derived from them, and the file is gone afterwards.
// (Which size is faster is the disk's business, not checked.)
func TestMeasureDisk(t *testing.T) {
	dir := t.TempDir()
	d, err := MeasureDisk(dir, 4<<20, 50)
	if err != nil {
		if strings.Contains(err.Error(), "no O_DIRECT") {
			t.Skipf("skipped: %v", err)
		}
		t.Fatal(err)
	}
	if d.Reads != 50 || d.Dir != dir || d.ReadNs <= 0 || d.Read32Ns <= 0 || d.ReadNs > 1e9 || d.Read32Ns > 1e9 {
		t.Fatalf("disk %+v", d)
	}
	if want := max(0, (d.Read32Ns-d.ReadNs)/7); d.ReadaheadNsPerPage != want {
		t.Fatalf("readahead %d, want %d", d.ReadaheadNsPerPage, want)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// TestMeasureDiskBadInput: sizes that cannot hold two 32 KiB blocks, or
// no reads, are errors, and nothing is written.
func TestMeasureDiskBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		bytes int64
		reads int
	}{{32 << 10, 10}, {100_000, 10}, {1 << 20, 0}} {
		if _, err := MeasureDisk(dir, c.bytes, c.reads); err == nil {
			t.Errorf("MeasureDisk(%d, %d): no error", c.bytes, c.reads)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// TestMeanDisk weights each measurement by its reads and derives the
// readahead cost from the means; no measurements give a zero Disk.
func TestMeanDisk(t *testing.T) {
	got := MeanDisk([]Disk{
		{Dir: "/tmp", Reads: 1000, ReadNs: 60_000, Read32Ns: 80_000},
		{Dir: "/tmp", Reads: 3000, ReadNs: 100_000, Read32Ns: 114_000},
	})
	want := Disk{Dir: "/tmp", Reads: 4000, ReadNs: 90_000, Read32Ns: 105_500, ReadaheadNsPerPage: 2_214}
	if got != want {
		t.Fatalf("MeanDisk = %+v, want %+v", got, want)
	}
	if d := MeanDisk(nil); d != (Disk{}) {
		t.Fatalf("MeanDisk(nil) = %+v", d)
	}
}
