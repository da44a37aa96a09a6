package kernel

import "testing"

func zonesOf(managed ...int64) []Zone {
	zs := make([]Zone, len(managed))
	for i, m := range managed {
		zs[i] = Zone{Type: ZoneType(i), ManagedPages: m, PresentPages: m}
	}
	return zs
}

// TestSetupWatermarksLiveHosts pins __setup_per_zone_wmarks to values read
// from /proc/zoneinfo of two live Linux 6.18 hosts.
func TestSetupWatermarksLiveHosts(t *testing.T) {
	cases := []struct {
		name    string
		managed []int64 // DMA, DMA32, Normal, Movable, Device
		minFree int64
		scale   int64
		want    [][3]int64
	}{
		{"REFERENCE.md host", []int64{3840, 772915, 458752}, 67584, 10,
			[][3]int64{{52, 65, 78}, {10569, 13211, 15853}, {6273, 7841, 9409}}},
		{"sbmpsim VM", []int64{3840, 772808, 524288, 0, 0}, 67584, 10,
			[][3]int64{{49, 61, 73}, {10036, 12545, 15054}, {6809, 8511, 10213}, {32, 32, 32}, {0, 0, 0}}},
		// A scale factor of 1000 (10%) dominates min/4 in big zones.
		{"scale factor 1000", []int64{3840, 772808, 524288}, 67584, 1000,
			[][3]int64{{49, 433, 817}, {10036, 87316, 164596}, {6809, 59237, 111665}}},
		// A large movable zone: min is clamped to 128, spacing is not.
		{"movable clamp", []int64{0, 0, 1 << 20, 1 << 20}, 4096, 10,
			[][3]int64{{0, 0, 0}, {0, 0, 0}, {1024, 2072, 3120}, {128, 1176, 2224}}},
	}
	for _, c := range cases {
		zs := zonesOf(c.managed...)
		if err := SetupWatermarks(zs, c.minFree, c.scale); err != nil {
			t.Fatal(err)
		}
		for i, w := range c.want {
			got := [3]int64{zs[i].Wmark.Min, zs[i].Wmark.Low, zs[i].Wmark.High}
			if got != w {
				t.Errorf("%s: zone %s min/low/high = %v, want %v", c.name, zs[i].Type, got, w)
			}
		}
	}
}

func TestSetupWatermarksErrors(t *testing.T) {
	if err := SetupWatermarks(zonesOf(0, 0, 0, 100), 1024, 10); err == nil {
		t.Error("no lowmem pages: want an error")
	}
	if err := SetupWatermarks(zonesOf(100), -1, 10); err == nil {
		t.Error("negative min_free_kbytes: want an error")
	}
}

// TestLowmemReserve pins setup_per_zone_lowmem_reserve to the
// "protection:" rows of the sbmpsim VM's /proc/zoneinfo.
func TestLowmemReserve(t *testing.T) {
	zs := zonesOf(3840, 772808, 524288, 0, 0)
	SetupLowmemReserve(zs, DefaultLowmemReserveRatio())
	want := [][NrZoneTypes]int64{
		{0, 3018, 5066, 5066, 5066},
		{0, 0, 2048, 2048, 2048},
		{0, 0, 0, 0, 0},
		{0, 0, 0, 0, 0},
		{0, 0, 0, 0, 0},
	}
	for i := range zs {
		if zs[i].LowmemReserve != want[i] {
			t.Errorf("zone %s protection %v, want %v", zs[i].Type, zs[i].LowmemReserve, want[i])
		}
	}
	// Zones of another node do not count.
	two := append(zonesOf(3840, 772808), Zone{Node: 1, Type: ZoneNormal, ManagedPages: 1 << 20})
	SetupLowmemReserve(two, DefaultLowmemReserveRatio())
	if two[0].LowmemReserve[ZoneNormal] != 772808/256 {
		t.Errorf("node-0 DMA reserve for Normal = %d, want %d", two[0].LowmemReserve[ZoneNormal], 772808/256)
	}
}

// TestMinFreeKbytes checks calculate_min_free_kbytes against the table in
// its comment and the clamps, and khugepaged's recommendation against the
// live value 67584 of a THP host with three populated lowmem zones.
func TestMinFreeKbytes(t *testing.T) {
	const mb = 256 // pages per MiB
	cases := []struct{ lowmemPages, want int64 }{
		{16 * mb, 512}, {64 * mb, 1024}, {1024 * mb, 4096}, {4096 * mb, 8192},
		{16384 * mb, 16384}, {8, 128}, {1 << 40, 262144},
	}
	for _, c := range cases {
		if got := CalculateMinFreeKbytes(zonesOf(c.lowmemPages)); got != c.want {
			t.Errorf("lowmem %d pages: min_free_kbytes %d, want %d", c.lowmemPages, got, c.want)
		}
	}
	zs := zonesOf(3840, 772808, 524288, 0, 0)
	boot := CalculateMinFreeKbytes(zs)
	if err := SetupWatermarks(zs, boot, 10); err != nil {
		t.Fatal(err)
	}
	if got := THPMinFreeKbytes(zs, boot); got != 67584 {
		t.Errorf("THP min_free_kbytes = %d (boot %d), want 67584", got, boot)
	}
}

type fakeArea [NrOrders]int64

func (a *fakeArea) NrFree(o int) int64 { return a[o] }

// TestWatermarkOK pins __zone_watermark_ok (Linux 6.12) with the Normal
// and DMA32 zones of the sbmpsim VM: min 6809 and 10036.
func TestWatermarkOK(t *testing.T) {
	zs := zonesOf(3840, 772808, 524288, 0, 0)
	if err := SetupWatermarks(zs, 67584, 10); err != nil {
		t.Fatal(err)
	}
	SetupLowmemReserve(zs, DefaultLowmemReserveRatio())
	normal, dma32 := &zs[ZoneNormal], &zs[ZoneDMA32]
	gfpAtomic := AllocWmarkMin | AllocMinReserve | AllocNonBlock
	order3 := &fakeArea{3: 1}
	order0 := &fakeArea{0: 100000}
	cases := []struct {
		name  string
		z     *Zone
		area  FreeArea
		check WatermarkCheck
		want  bool
	}{
		{"at min fails", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, FreePages: 6809}, false},
		{"above min passes", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, FreePages: 6810}, true},
		// The reserve discount: 6809 -> 3405 (__GFP_HIGH) -> 2554 (GFP_ATOMIC).
		{"normal at 3000 fails", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, FreePages: 3000}, false},
		{"GFP_ATOMIC at 3000 passes", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, Flags: gfpAtomic, FreePages: 3000}, true},
		{"GFP_ATOMIC at 2554 fails", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, Flags: gfpAtomic, FreePages: 2554}, false},
		{"GFP_ATOMIC at 2555 passes", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, Flags: gfpAtomic, FreePages: 2555}, true},
		{"__GFP_HIGH at 3405 fails", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, Flags: AllocMinReserve, FreePages: 3405}, false},
		{"__GFP_HIGH at 3406 passes", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, Flags: AllocMinReserve, FreePages: 3406}, true},
		{"GFP_NOWAIT gets no discount", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, Flags: AllocNonBlock, FreePages: 3406}, false},
		{"ALLOC_OOM halves", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, Flags: AllocOOM, FreePages: 3406}, true},
		// OOM on top of GFP_ATOMIC: 2554 -> 1277.
		{"ALLOC_OOM|atomic", normal, nil, WatermarkCheck{Mark: 6809, HighestZoneIdx: ZoneNormal, Flags: gfpAtomic | AllocOOM, FreePages: 1278}, true},
		// lowmem_reserve: DMA32 keeps 2048 pages from Normal-capable requests.
		{"DMA32 for a GFP_KERNEL request", dma32, nil, WatermarkCheck{Mark: 10036, HighestZoneIdx: ZoneNormal, FreePages: 12000}, false},
		{"DMA32 for a GFP_DMA32 request", dma32, nil, WatermarkCheck{Mark: 10036, HighestZoneIdx: ZoneDMA32, FreePages: 12000}, true},
		// Higher orders: the block must fit above the mark, and exist.
		{"order 3 block counts against free", normal, order3, WatermarkCheck{Order: 3, Mark: 6809, HighestZoneIdx: ZoneNormal, FreePages: 6816}, false},
		{"order 3 with a free order-3 block", normal, order3, WatermarkCheck{Order: 3, Mark: 6809, HighestZoneIdx: ZoneNormal, FreePages: 6817}, true},
		{"order 3 with only order-0 blocks", normal, order0, WatermarkCheck{Order: 3, Mark: 6809, HighestZoneIdx: ZoneNormal, FreePages: 100000}, false},
		{"order 2 with an order-3 block", normal, order3, WatermarkCheck{Order: 2, Mark: 6809, HighestZoneIdx: ZoneNormal, FreePages: 100000}, true},
	}
	for _, c := range cases {
		if got := WatermarkOK(c.z, c.area, c.check); got != c.want {
			t.Errorf("%s: WatermarkOK = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestWatermarkOKWithBuddy(t *testing.T) {
	b := mustBuddy(t, 0, 4*MaxBlockPages)
	z := Zone{Type: ZoneNormal, ManagedPages: b.Managed()}
	check := WatermarkCheck{Order: MaxOrder, Mark: 100, HighestZoneIdx: ZoneNormal, FreePages: b.FreePages()}
	if !WatermarkOK(&z, b, check) {
		t.Fatal("empty zone refuses an order-10 request")
	}
	if err := b.AllocAt(0, 0); err != nil {
		t.Fatal(err)
	}
	for _, pfn := range []int64{MaxBlockPages, 2 * MaxBlockPages, 3 * MaxBlockPages} {
		if err := b.AllocAt(pfn, 0); err != nil {
			t.Fatal(err)
		}
	}
	check.FreePages = b.FreePages()
	if WatermarkOK(&z, b, check) {
		t.Fatal("no order-10 block left, yet the order-10 watermark check passes")
	}
}
