package kernel

// LRU list indices, in the order of enum lru_list (include/linux/mmzone.h)
// for the evictable lists: nr[0..3] of get_scan_count.
const (
	InactiveAnon = iota
	ActiveAnon
	InactiveFile
	ActiveFile
	NumEvictableLRU
)

// swapClusterMax is SWAP_CLUSTER_MAX (include/linux/swap.h): the pages
// one reclaim pass aims for.
const swapClusterMax = 32

// maxReclaimRetries is MAX_RECLAIM_RETRIES (mm/internal.h).
const maxReclaimRetries = 16

// DefPriority is DEF_PRIORITY (mm/vmscan.c): the first reclaim pass scans
// each list's size >> 12; every pass that reclaims too little lowers the
// priority by one, down to 0 (scan everything).
const DefPriority = 12

// ScanBalance says how get_scan_count splits the scan between anonymous and
// file pages (enum scan_balance in mm/vmscan.c).
type ScanBalance int

// The scan balances of mm/vmscan.c.
const (
	ScanEqual ScanBalance = iota // both in proportion to size
	ScanFract                    // by swappiness and recent reclaim cost
	ScanAnon                     // anonymous only
	ScanFile                     // file only
)

// String is the name of b in enum scan_balance.
func (b ScanBalance) String() string {
	return [...]string{"SCAN_EQUAL", "SCAN_FRACT", "SCAN_ANON", "SCAN_FILE"}[b]
}

// ScanInput is what get_scan_count reads for one lruvec at one priority.
// Counts are pages.
type ScanInput struct {
	// Swappiness is vm.swappiness (or the cgroup's), 0..200.
	Swappiness int
	// CgroupReclaim is true for memcg-limit reclaim (cgroup_reclaim(sc)),
	// false for global reclaim (kswapd or direct).
	CgroupReclaim bool
	// MaySwap is sc->may_swap.
	MaySwap bool
	// CanReclaimAnon is can_reclaim_anon_pages: swap space is free (the
	// model has no demotion targets).
	CanReclaimAnon bool
	// Priority is sc->priority, DefPriority down to 0.
	Priority int
	// FileIsTiny and CacheTrimMode are the flags prepare_scan_control
	// sets; see FileIsTiny and CacheTrimMode.
	FileIsTiny    bool
	CacheTrimMode bool
	// AnonCost and FileCost are the recent reclaim costs of each type
	// (lruvec->anon_cost, file_cost, summed to the reclaim root).
	AnonCost, FileCost uint64
	// LRU holds the list sizes, indexed by InactiveAnon..ActiveFile.
	LRU [NumEvictableLRU]uint64
}

// ScanCount returns how many pages to scan on each evictable list, and
// the balance it chose, as get_scan_count in mm/vmscan.c (Linux 6.x, the
// classic LRU; memory.low/min protection is not modelled). In order:
//   - no swap, or may_swap off: file only;
//   - cgroup reclaim with swappiness 0: file only;
//   - priority 0 with swappiness > 0 (close to OOM): equal pressure;
//   - file pages tiny (global reclaim only): anon only. This is why
//     global reclaim swaps even at swappiness 0 once page cache is gone;
//   - enough inactive page cache (cache trim mode): file only;
//   - otherwise a fraction: ap = swappiness*(total+1)/(anon_cost+1),
//     fp = (200-swappiness)*(total+1)/(file_cost+1), with each cost first
//     raised by the total, so neither type gets less than a third of the
//     pressure before swappiness.
//
// Each list's scan is its size >> priority, then split by the balance.
func ScanCount(in ScanInput) (nr [NumEvictableLRU]uint64, balance ScanBalance) {
	var fraction [2]uint64 // anon, file
	var denominator uint64
	switch {
	case !in.MaySwap || !in.CanReclaimAnon:
		balance = ScanFile
	case in.CgroupReclaim && in.Swappiness == 0:
		balance = ScanFile
	case in.Priority == 0 && in.Swappiness != 0:
		balance = ScanEqual
	case in.FileIsTiny:
		balance = ScanAnon
	case in.CacheTrimMode:
		balance = ScanFile
	default:
		balance = ScanFract
		total := in.AnonCost + in.FileCost
		anonCost := total + in.AnonCost
		fileCost := total + in.FileCost
		total = anonCost + fileCost
		fraction[0] = uint64(in.Swappiness) * (total + 1) / (anonCost + 1)
		fraction[1] = uint64(200-in.Swappiness) * (total + 1) / (fileCost + 1)
		denominator = fraction[0] + fraction[1]
	}
	for lru := range NumEvictableLRU {
		file := 0
		if lru >= InactiveFile {
			file = 1
		}
		scan := in.LRU[lru] >> in.Priority
		switch balance {
		case ScanFract:
			if denominator == 0 {
				scan = 0
			} else {
				scan = scan * fraction[file] / denominator
			}
		case ScanFile, ScanAnon:
			if (balance == ScanFile) != (file == 1) {
				scan = 0
			}
		}
		nr[lru] = scan
	}
	return nr, balance
}

// FileIsTiny is sc->file_is_tiny as prepare_scan_control sets it for
// global reclaim of one node: file LRU pages plus free pages at or below
// the sum of the node's zones' high watermarks, anonymous pages not
// being deactivated, and some inactive anon to scan at this priority.
func FileIsTiny(filePages, freePages, sumHighWmark, inactiveAnon uint64, deactivateAnon bool, priority int) bool {
	return filePages+freePages <= sumHighWmark && !deactivateAnon && inactiveAnon>>priority != 0
}

// CacheTrimMode is sc->cache_trim_mode as prepare_scan_control sets it:
// enough inactive file pages at this priority, and the file list is not
// being deactivated (it is not thrashing).
func CacheTrimMode(inactiveFile uint64, deactivateFile bool, priority int) bool {
	return inactiveFile>>priority != 0 && !deactivateFile
}
