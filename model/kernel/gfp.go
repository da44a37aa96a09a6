package kernel

import (
	"fmt"
	"strings"
)

// This file holds the gfp_t bits the model acts on (include/linux/gfp_types.h,
// Linux 6.18), the masks built from them, and what the page allocator
// derives from a mask: the allocation's migratetype (gfp_migratetype) and
// its ALLOC_* flags (gfp_to_alloc_flags).

// GFPFlags are the __GFP_* bits of a gfp mask that the model acts on.
// __GFP_FS, __GFP_NOWARN, __GFP_COMP and the zone bits do not change
// what the model does and are left out.
type GFPFlags uint32

// The bits.
const (
	// GFPDirectReclaim is __GFP_DIRECT_RECLAIM: the caller may enter
	// direct reclaim and direct compaction (it may sleep).
	GFPDirectReclaim GFPFlags = 1 << iota
	// GFPKswapdReclaim is __GFP_KSWAPD_RECLAIM: wake kswapd (and through
	// it kcompactd) when the low watermark is reached.
	GFPKswapdReclaim
	// GFPIO is __GFP_IO; compaction needs it (gfp_compaction_allowed).
	GFPIO
	// GFPHigh is __GFP_HIGH: ALLOC_MIN_RESERVE, half the min reserve.
	GFPHigh
	// GFPNoRetry is __GFP_NORETRY: one round of reclaim and compaction,
	// then fail.
	GFPNoRetry
	// GFPRetryMayFail is __GFP_RETRY_MAYFAIL: retry like an ordinary
	// request (costly orders too, given compaction) but fail rather
	// than invoke the OOM killer.
	GFPRetryMayFail
	// GFPNoMemalloc is __GFP_NOMEMALLOC: no access to reserves beyond
	// the watermark discounts (no ALLOC_NON_BLOCK for a non-blocking
	// request).
	GFPNoMemalloc
	// GFPMovable and GFPReclaimable are __GFP_MOVABLE and
	// __GFP_RECLAIMABLE: the allocation's migratetype.
	GFPMovable
	GFPReclaimable
	// GFPThisNode is __GFP_THISNODE: the preferred node only, no
	// fallback along the zonelist.
	GFPThisNode
	// GFPAccount is __GFP_ACCOUNT: charge the pages to a memory cgroup
	// (__memcg_kmem_charge_page).
	GFPAccount
)

// GFPReclaim is __GFP_RECLAIM: direct and kswapd reclaim.
const GFPReclaim = GFPDirectReclaim | GFPKswapdReclaim

// Masks of include/linux/gfp_types.h, without the bits the model ignores.
const (
	// MaskKernel is GFP_KERNEL.
	MaskKernel = GFPReclaim | GFPIO
	// MaskAtomic is GFP_ATOMIC.
	MaskAtomic = GFPHigh | GFPKswapdReclaim
	// MaskNowait is GFP_NOWAIT.
	MaskNowait = GFPKswapdReclaim
	// MaskHighUserMovable is GFP_HIGHUSER_MOVABLE.
	MaskHighUserMovable = GFPReclaim | GFPIO | GFPMovable
	// MaskTransHugeLight is GFP_TRANSHUGE_LIGHT: a movable huge page
	// with no reclaim of any kind and no reserves.
	MaskTransHugeLight = (MaskHighUserMovable | GFPNoMemalloc) &^ GFPReclaim
	// MaskTransHuge is GFP_TRANSHUGE: GFP_TRANSHUGE_LIGHT with direct
	// reclaim and compaction.
	MaskTransHuge = MaskTransHugeLight | GFPDirectReclaim
)

// Migratetype is gfp_migratetype: movable, reclaimable or unmovable.
func (f GFPFlags) Migratetype() Migratetype {
	switch {
	case f&GFPMovable != 0:
		return MigrateMovable
	case f&GFPReclaimable != 0:
		return MigrateReclaimable
	}
	return MigrateUnmovable
}

// String lists the bits with the kernel's names, "|"-separated.
func (f GFPFlags) String() string {
	names := []string{"__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_IO", "__GFP_HIGH", "__GFP_NORETRY",
		"__GFP_RETRY_MAYFAIL", "__GFP_NOMEMALLOC", "__GFP_MOVABLE", "__GFP_RECLAIMABLE", "__GFP_THISNODE", "__GFP_ACCOUNT"}
	var out []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if rest := f &^ (1<<len(names) - 1); rest != 0 {
		out = append(out, fmt.Sprintf("%#x", uint32(rest)))
	}
	if len(out) == 0 {
		return "0"
	}
	return strings.Join(out, "|")
}

// gfpToAllocFlags is gfp_to_alloc_flags for the slow path: the min
// watermark; __GFP_HIGH's reserve; ALLOC_KSWAPD for __GFP_KSWAPD_RECLAIM;
// a request that cannot reclaim directly gets ALLOC_NON_BLOCK (unless
// __GFP_NOMEMALLOC) and, at order > 0 with __GFP_HIGH, ALLOC_HIGHATOMIC.
func gfpToAllocFlags(f GFPFlags, order int) AllocFlags {
	flags := AllocWmarkMin
	if f&GFPHigh != 0 {
		flags |= AllocMinReserve
	}
	if f&GFPKswapdReclaim != 0 {
		flags |= AllocKswapd
	}
	if f&GFPDirectReclaim == 0 && f&GFPNoMemalloc == 0 {
		flags |= AllocNonBlock
		if order > 0 && flags&AllocMinReserve != 0 {
			flags |= AllocHighAtomic
		}
	}
	return flags
}
