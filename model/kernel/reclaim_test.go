package kernel

import "testing"

func TestScanCount(t *testing.T) {
	lru := [NumEvictableLRU]uint64{1 << 20, 1 << 20, 1 << 20, 1 << 20}
	tests := []struct {
		name    string
		in      ScanInput
		want    ScanBalance
		wantAnn bool // some anon scanned
		wantFil bool // some file scanned
	}{
		{"no swap: file only", ScanInput{Swappiness: 60, MaySwap: true, CanReclaimAnon: false, Priority: 12, LRU: lru}, ScanFile, false, true},
		{"swappiness 0, global, file plentiful: cache trim, file only", ScanInput{Swappiness: 0, MaySwap: true, CanReclaimAnon: true, Priority: 12, CacheTrimMode: true, LRU: lru}, ScanFile, false, true},
		{"swappiness 0, global, file tiny: anon only (swaps to avoid OOM)", ScanInput{Swappiness: 0, MaySwap: true, CanReclaimAnon: true, Priority: 12, FileIsTiny: true, LRU: lru}, ScanAnon, true, false},
		{"swappiness 0, cgroup reclaim: file only even when file is tiny", ScanInput{Swappiness: 0, CgroupReclaim: true, MaySwap: true, CanReclaimAnon: true, Priority: 12, FileIsTiny: true, LRU: lru}, ScanFile, false, true},
		{"swappiness 0, fraction: anon gets nothing", ScanInput{Swappiness: 0, MaySwap: true, CanReclaimAnon: true, Priority: 12, LRU: lru}, ScanFract, false, true},
		{"priority 0 with swappiness: equal", ScanInput{Swappiness: 60, MaySwap: true, CanReclaimAnon: true, Priority: 0, LRU: lru}, ScanEqual, true, true},
		{"priority 0, swappiness 0: not equal", ScanInput{Swappiness: 0, MaySwap: true, CanReclaimAnon: true, Priority: 0, LRU: lru}, ScanFract, false, true},
		{"swappiness 200: anon only by fraction", ScanInput{Swappiness: 200, MaySwap: true, CanReclaimAnon: true, Priority: 12, LRU: lru}, ScanFract, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nr, b := ScanCount(tt.in)
			if b != tt.want {
				t.Fatalf("balance = %v, want %v", b, tt.want)
			}
			anon, file := nr[InactiveAnon]+nr[ActiveAnon], nr[InactiveFile]+nr[ActiveFile]
			if (anon > 0) != tt.wantAnn || (file > 0) != tt.wantFil {
				t.Fatalf("scan anon %d file %d, want anon>0 %v file>0 %v", anon, file, tt.wantAnn, tt.wantFil)
			}
		})
	}
}

// TestScanFractionHandComputed checks SCAN_FRACT's arithmetic against a
// hand computation: swappiness 60, anon_cost 100, file_cost 300.
// total = 400; anon' = 500, file' = 700, total' = 1200;
// ap = 60*1201/501 = 143 (72060/501 = 143.8 truncated);
// fp = 140*1201/701 = 239 (168140/701 = 239.85 truncated);
// inactive anon 4096 pages at priority 2 -> 1024 * 143/382 = 383.
func TestScanFractionHandComputed(t *testing.T) {
	nr, b := ScanCount(ScanInput{
		Swappiness: 60, MaySwap: true, CanReclaimAnon: true, Priority: 2,
		AnonCost: 100, FileCost: 300,
		LRU: [NumEvictableLRU]uint64{4096, 0, 4096, 0},
	})
	if b != ScanFract {
		t.Fatalf("balance %v", b)
	}
	if nr[InactiveAnon] != 1024*143/382 || nr[InactiveFile] != 1024*239/382 {
		t.Fatalf("nr = %v, want anon %d file %d", nr, 1024*143/382, 1024*239/382)
	}
}

func TestFileIsTinyAndCacheTrim(t *testing.T) {
	if !FileIsTiny(100, 200, 400, 1<<12, false, 12) {
		t.Error("file+free 300 <= high 400 with anon to scan: tiny")
	}
	if FileIsTiny(300, 200, 400, 1<<12, false, 12) {
		t.Error("file+free 500 > high 400: not tiny")
	}
	if FileIsTiny(100, 200, 400, 1<<11, false, 12) {
		t.Error("no inactive anon to scan at priority 12: not tiny")
	}
	if !CacheTrimMode(1<<12, false, 12) || CacheTrimMode(1<<11, false, 12) || CacheTrimMode(1<<12, true, 12) {
		t.Error("cache trim mode wrong")
	}
}
