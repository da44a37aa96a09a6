package kernel

import (
	"fmt"
	"math/bits"
)

// ZoneType is a zone's index within its node (enum zone_type) on x86-64
// with CONFIG_ZONE_DMA, CONFIG_ZONE_DMA32 and CONFIG_ZONE_DEVICE and
// without CONFIG_HIGHMEM, so that the indices match the "protection:" rows
// of /proc/zoneinfo on such a machine.
type ZoneType int

// Zone types in node order.
const (
	ZoneDMA ZoneType = iota
	ZoneDMA32
	ZoneNormal
	ZoneMovable
	ZoneDevice
	// NrZoneTypes is MAX_NR_ZONES.
	NrZoneTypes
)

// String returns the kernel's zone name (zone_names[]).
func (t ZoneType) String() string {
	switch t {
	case ZoneDMA:
		return "DMA"
	case ZoneDMA32:
		return "DMA32"
	case ZoneNormal:
		return "Normal"
	case ZoneMovable:
		return "Movable"
	case ZoneDevice:
		return "Device"
	}
	return fmt.Sprintf("ZoneType(%d)", int(t))
}

// ParseZoneType maps a zone name as /proc/zoneinfo prints it to its type.
func ParseZoneType(name string) (ZoneType, bool) {
	for t := ZoneType(0); t < NrZoneTypes; t++ {
		if t.String() == name {
			return t, true
		}
	}
	return 0, false
}

// Lowmem reports whether the zone counts as lowmem for min_free_kbytes, as
// __setup_per_zone_wmarks decides: neither highmem (absent on x86-64) nor
// ZONE_MOVABLE.
func (t ZoneType) Lowmem() bool { return t != ZoneMovable }

// WmarkIndex selects a watermark (enum zone_watermarks).
type WmarkIndex int

// Watermark indices; AllocFlags carries one of the first three.
const (
	WmarkMin WmarkIndex = iota
	WmarkLow
	WmarkHigh
	WmarkPromo
)

// Watermarks are a zone's _watermark[] array and watermark_boost, in pages.
type Watermarks struct {
	Min   int64 `json:"min"`
	Low   int64 `json:"low"`
	High  int64 `json:"high"`
	Promo int64 `json:"promo"`
	Boost int64 `json:"boost"`
}

// Zone is the static description of one zone of one node: its span, its
// page counts and the watermarks and lowmem reserves computed from them.
// The free pages themselves live in a Buddy.
type Zone struct {
	Node         int
	Type         ZoneType
	StartPFN     int64
	SpannedPages int64
	PresentPages int64
	// ManagedPages are the pages the buddy allocator manages; they change
	// with memory hotplug and ballooning, after which the watermarks and
	// reserves are recomputed (setup_per_zone_wmarks).
	ManagedPages int64
	Wmark        Watermarks
	// LowmemReserve[j] is the number of pages an allocation whose highest
	// usable zone is j must leave free in this zone (lowmem_reserve[]).
	LowmemReserve [NrZoneTypes]int64
}

// WmarkPages is wmark_pages(): the watermark plus the current boost.
func (z *Zone) WmarkPages(i WmarkIndex) int64 {
	m := [...]int64{z.Wmark.Min, z.Wmark.Low, z.Wmark.High, z.Wmark.Promo}
	return m[i] + z.Wmark.Boost
}

// Populated is populated_zone(): the zone has present pages.
func (z *Zone) Populated() bool { return z.PresentPages > 0 }

// multFrac is the kernel's mult_frac(x, n, d): x * n / d computed as
// quotient and remainder so that the product does not overflow.
func multFrac(x, n, d int64) int64 {
	q, r := x/d, x%d
	return q*n + r*n/d
}

// SetupWatermarks sets min, low, high and promo of every zone (of all
// nodes) from vm.min_free_kbytes and vm.watermark_scale_factor, as
// __setup_per_zone_wmarks does (mm/page_alloc.c, Linux 6.12; unchanged in
// substance since 5.0 apart from the promo mark added in 6.0):
//
//	pages_min = min_free_kbytes >> (PAGE_SHIFT - 10)
//	tmp = pages_min * managed / lowmem_managed       (u64 then div64)
//	min = tmp for lowmem zones; for ZONE_MOVABLE (and highmem)
//	      clamp(managed / 1024, SWAP_CLUSTER_MAX = 32, 128)
//	tmp = max(tmp >> 2, mult_frac(managed, watermark_scale_factor, 10000))
//	low = min + tmp, high = low + tmp, promo = high + tmp, boost = 0
//
// Note that the spacing uses the proportional share tmp even for a
// movable zone whose min was clamped. It fails when no lowmem zone has
// managed pages (the kernel would divide by zero) or an input is negative.
func SetupWatermarks(zones []Zone, minFreeKbytes, watermarkScaleFactor int64) error {
	if minFreeKbytes < 0 || watermarkScaleFactor < 0 {
		return fmt.Errorf("setup watermarks: min_free_kbytes %d and watermark_scale_factor %d must not be negative",
			minFreeKbytes, watermarkScaleFactor)
	}
	pagesMin := minFreeKbytes >> (PageShift - 10)
	var lowmem int64
	for i := range zones {
		if zones[i].Type.Lowmem() {
			lowmem += zones[i].ManagedPages
		}
	}
	if lowmem == 0 {
		return fmt.Errorf("setup watermarks: no lowmem zone has managed pages")
	}
	for i := range zones {
		z := &zones[i]
		hi, lo := bits.Mul64(uint64(pagesMin), uint64(z.ManagedPages))
		q, _ := bits.Div64(hi, lo, uint64(lowmem))
		tmp := int64(q)
		z.Wmark.Min = tmp
		if !z.Type.Lowmem() {
			z.Wmark.Min = min(max(z.ManagedPages/1024, swapClusterMax), 128)
		}
		tmp = max(tmp>>2, multFrac(z.ManagedPages, watermarkScaleFactor, 10000))
		z.Wmark.Boost = 0
		z.Wmark.Low = z.Wmark.Min + tmp
		z.Wmark.High = z.Wmark.Low + tmp
		z.Wmark.Promo = z.Wmark.High + tmp
	}
	return nil
}

// DefaultLowmemReserveRatio is the default vm.lowmem_reserve_ratio
// (sysctl_lowmem_reserve_ratio[], Linux 6.12) for DMA, DMA32, Normal,
// Movable and Device.
func DefaultLowmemReserveRatio() [NrZoneTypes]int64 {
	return [NrZoneTypes]int64{256, 256, 32, 0, 0}
}

// SetupLowmemReserve sets every zone's LowmemReserve as
// setup_per_zone_lowmem_reserve (Linux 6.12): for zone i of a node and
// each higher zone j of the same node, the managed pages of zones i+1..j
// divided by ratio[i]; zero when the ratio is zero or zone i manages no
// pages. Entries j <= i are zero.
func SetupLowmemReserve(zones []Zone, ratio [NrZoneTypes]int64) {
	for i := range zones {
		z := &zones[i]
		zero := ratio[z.Type] == 0 || z.ManagedPages == 0
		var managed int64
		for j := ZoneType(0); j < NrZoneTypes; j++ {
			if j > z.Type {
				managed += nodeManaged(zones, z.Node, j)
			}
			if j <= z.Type || zero {
				z.LowmemReserve[j] = 0
				continue
			}
			z.LowmemReserve[j] = managed / ratio[z.Type]
		}
	}
}

// nodeManaged is the managed pages of the node's zone of type t (zero when
// the slice has no such zone).
func nodeManaged(zones []Zone, node int, t ZoneType) int64 {
	for i := range zones {
		if zones[i].Node == node && zones[i].Type == t {
			return zones[i].ManagedPages
		}
	}
	return 0
}

// FreeBufferPages is nr_free_buffer_pages(): over the zones an allocation
// with GFP_USER may use (up to ZONE_NORMAL, every node), the managed pages
// above each zone's high watermark.
func FreeBufferPages(zones []Zone) int64 {
	var sum int64
	for i := range zones {
		z := &zones[i]
		if z.Type <= ZoneNormal && z.ManagedPages > z.WmarkPages(WmarkHigh) {
			sum += z.ManagedPages - z.WmarkPages(WmarkHigh)
		}
	}
	return sum
}

// CalculateMinFreeKbytes is the boot default of vm.min_free_kbytes,
// calculate_min_free_kbytes (mm/page_alloc.c, Linux 6.12; the upper clamp
// has been 262144 since 5.7, 65536 before):
// int_sqrt(lowmem_kbytes * 16) clamped to [128, 262144], where
// lowmem_kbytes is FreeBufferPages in kB. At boot the watermarks are still
// zero, so pass zones whose watermarks are unset for the boot value. A
// value written by the user (user_min_free_kbytes) is not modelled.
func CalculateMinFreeKbytes(zones []Zone) int64 {
	lowmemKbytes := uint64(FreeBufferPages(zones)) << (PageShift - 10)
	return min(max(int64(isqrt(lowmemKbytes*16)), 128), 262144)
}

// THPMinFreeKbytes is what khugepaged's set_recommended_min_free_kbytes
// (mm/khugepaged.c, Linux 6.12) raises vm.min_free_kbytes to when
// transparent huge pages are enabled: per populated zone up to
// ZONE_NORMAL, 2 + MIGRATE_PCPTYPES^2 = 11 pageblocks of 512 pages, at
// most 5% of FreeBufferPages, in kB; the result is
// max(current, recommended). This is why a machine with THP shows a
// min_free_kbytes well above CalculateMinFreeKbytes.
func THPMinFreeKbytes(zones []Zone, current int64) int64 {
	const pageblockPages, migratePCPTypes = 512, 3
	var nrZones int64
	for i := range zones {
		if zones[i].Populated() && zones[i].Type <= ZoneNormal {
			nrZones++
		}
	}
	rec := pageblockPages*nrZones*2 + pageblockPages*nrZones*migratePCPTypes*migratePCPTypes
	rec = min(rec, FreeBufferPages(zones)/20) << (PageShift - 10)
	return max(rec, current)
}

// isqrt is int_sqrt: the integer square root, rounded down.
func isqrt(x uint64) uint64 {
	r := uint64(0)
	for bit := uint64(1) << 62; bit != 0; bit >>= 2 {
		if x >= r+bit {
			x -= r + bit
			r = r>>1 + bit
		} else {
			r >>= 1
		}
	}
	return r
}

// AllocFlags are the page allocator's internal ALLOC_* flags
// (mm/internal.h, Linux 6.12). The low two bits select the watermark.
type AllocFlags uint32

// ALLOC_* values, equal to the kernel's.
const (
	AllocWmarkMin     AllocFlags = AllocFlags(WmarkMin)
	AllocWmarkLow     AllocFlags = AllocFlags(WmarkLow)
	AllocWmarkHigh    AllocFlags = AllocFlags(WmarkHigh)
	AllocNoWatermarks AllocFlags = 0x04
	AllocWmarkMask    AllocFlags = AllocNoWatermarks - 1
	// AllocOOM: an OOM victim may dip a further half into the reserve.
	AllocOOM AllocFlags = 0x08
	// AllocNonBlock: the caller cannot block (GFP_ATOMIC, GFP_NOWAIT).
	// With AllocMinReserve it may use a further quarter of the reserve.
	AllocNonBlock AllocFlags = 0x10
	// AllocMinReserve: __GFP_HIGH; may use half of the min reserve.
	AllocMinReserve AllocFlags = 0x20
	AllocCPUSet     AllocFlags = 0x40
	AllocCMA        AllocFlags = 0x80
	AllocHighAtomic AllocFlags = 0x200
	AllocKswapd     AllocFlags = 0x800
	// AllocReserves are the flags that allow allocating below min.
	AllocReserves = AllocNonBlock | AllocMinReserve | AllocHighAtomic | AllocOOM
)

// Wmark is the watermark the flags select (alloc_flags & ALLOC_WMARK_MASK).
func (f AllocFlags) Wmark() WmarkIndex { return WmarkIndex(f & AllocWmarkMask) }

// FreeArea is what the watermark check reads of a zone's buddy free area:
// the number of free blocks per order. *Buddy implements it.
type FreeArea interface {
	NrFree(order int) int64
}

// WatermarkCheck is one question to WatermarkOK, in a struct because its
// integers are easy to swap.
type WatermarkCheck struct {
	Order int
	// Mark is the watermark in pages, usually z.WmarkPages(flags.Wmark()).
	Mark int64
	// HighestZoneIdx is the highest zone the allocation may use
	// (gfp_zone), which selects the lowmem reserve.
	HighestZoneIdx ZoneType
	Flags          AllocFlags
	// FreePages is the zone's free page count (NR_FREE_PAGES).
	FreePages int64
	// FreeHighAtomic is the zone's free pages in the highatomic reserve
	// (nr_free_highatomic), which only allocations with access to
	// reserves may count.
	FreeHighAtomic int64
}

// WatermarkOK reports whether an allocation may take pages from the zone,
// as __zone_watermark_ok (mm/page_alloc.c, Linux 6.18; the reserve rules
// date from 6.3, "mm/page_alloc: explicitly define what alloc flags
// deplete min reserves"):
//
//   - free -= (1 << order) - 1 (the block itself must fit above the mark),
//     and free -= nr_free_highatomic unless the flags give access to
//     reserves (__zone_watermark_unusable_free);
//   - ALLOC_MIN_RESERVE (__GFP_HIGH): min -= min/2, and with
//     ALLOC_NON_BLOCK as well (GFP_ATOMIC) min -= min/4, so 0.375 x mark;
//     ALLOC_NON_BLOCK alone (GFP_NOWAIT) gets no discount;
//   - ALLOC_OOM: min -= min/2;
//   - fail if free <= min + lowmem_reserve[highest_zoneidx];
//   - order 0 passes; a higher order also needs a free block of at least
//     that order on an ordinary type's list, or on the highatomic
//     reserve's for ALLOC_HIGHATOMIC and ALLOC_OOM.
//
// CMA is not modelled. area may be nil, in which case no order > 0
// request passes; an area that does not keep lists per migratetype
// counts every free block.
func WatermarkOK(z *Zone, area FreeArea, c WatermarkCheck) bool {
	minPages := c.Mark
	free := c.FreePages - (int64(1)<<c.Order - 1)
	if c.Flags&AllocReserves == 0 {
		free -= c.FreeHighAtomic
	}
	if c.Flags&AllocMinReserve != 0 {
		minPages -= minPages / 2
		if c.Flags&AllocNonBlock != 0 {
			minPages -= minPages / 4
		}
	}
	if c.Flags&AllocOOM != 0 {
		minPages -= minPages / 2
	}
	if free <= minPages+z.LowmemReserve[c.HighestZoneIdx] {
		return false
	}
	if c.Order == 0 {
		return true
	}
	if area == nil {
		return false
	}
	typed, byType := area.(interface {
		HasFreeMT(order int, mt Migratetype) bool
	})
	highAtomic := c.Flags&(AllocHighAtomic|AllocOOM) != 0
	for o := c.Order; o <= MaxOrder; o++ {
		if !byType {
			if area.NrFree(o) > 0 {
				return true
			}
			continue
		}
		for mt := range migratePCPTypes {
			if typed.HasFreeMT(o, mt) {
				return true
			}
		}
		if highAtomic && typed.HasFreeMT(o, MigrateHighAtomic) {
			return true
		}
	}
	return false
}
