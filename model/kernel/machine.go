package kernel

import (
	"errors"
	"fmt"
	"math"
)

// MachineConfig describes the memory of a modelled machine. The NUMA
// topology arrives as plain data (pages per node and zonelists), so that
// this package does not depend on model/numa; experiments wires the two.
type MachineConfig struct {
	// NodePages is the managed memory of each node, in 4 KiB pages. Each
	// node has one ZONE_NORMAL zone: the DMA and DMA32 zones of node 0
	// hold a few GiB at most and matter for devices, not for the
	// behaviour modelled here, so the simulator's machines leave them out
	// (experiments/input/host reads and checks them on real hosts).
	NodePages []int64
	// Zonelists[n] lists the nodes an allocation preferring node n tries,
	// nearest first (build_zonelists), starting with n itself.
	Zonelists [][]int
	// MinFreeKbytes is vm.min_free_kbytes; 0 computes it as the kernel
	// does at boot (calculate_min_free_kbytes).
	MinFreeKbytes int64
	// WatermarkScaleFactor is vm.watermark_scale_factor (default 10).
	WatermarkScaleFactor int64
	// Swappiness is vm.swappiness, 0..200.
	Swappiness int
	// OOMKillAllocatingTask is vm.oom_kill_allocating_task.
	OOMKillAllocatingTask bool
	// SwapPages is the size of the swap device; 0 means no swap.
	SwapPages int64
	// PageCluster is vm.page-cluster (0..31): a swap-in fault reads up
	// to 2^PageCluster slots of swap around the faulting one
	// (swap_cluster_readahead); 0 reads the faulting page alone. nil
	// takes Linux's default, 3 (page_cluster, set by swap_setup for
	// machines of more than 16 MiB).
	PageCluster *int
	// ReaperDelayNs is how long after an OOM kill the caller frees the
	// victim's memory (Reap): the victim's own exit, or, for a victim
	// stuck in the kernel, the OOM reaper's OOM_REAPER_DELAY = 2*HZ.
	ReaperDelayNs int64
	// Cost is what reclaim work costs in simulated time.
	Cost ReclaimCost
	// CgroupV1 accounts swap as cgroup v1 does with memsw accounting
	// (Cgroups.SetMemsw): a cgroup's swap.max is then the part of
	// memory.memsw.limit_in_bytes above memory.max. The default is cgroup
	// v2's accounting.
	CgroupV1 bool
	// Clock, when set, is the caller's simulated time in ns. Swap writes
	// then take time (Cost.SwapWriteNsPerRequest and SwapWriteNsPerPage
	// on one FIFO device), and a page reclaim swaps out is freed by a
	// later scan, after its write (writeback.go). Without it a swap
	// write completes as it is submitted, as on a synchronous device,
	// and the page is freed in the same pass.
	Clock func() int64
	// CPUNodes gives each CPU's node (a node index here). When set, every
	// CPU has a per-CPU page list per zone (per_cpu_pages) sized as the
	// kernel sizes them, order-0 allocations of a placed task go through
	// its CPU's list, and its frees go back onto it. Empty: no lists.
	CPUNodes []int
	// Khugepaged is set when transparent huge pages are enabled
	// (transparent_hugepage/enabled is not "never"), so khugepaged runs
	// and raises vm.min_free_kbytes (THPMinFreeKbytes) at boot and on
	// memory hotplug.
	Khugepaged bool
	// Compaction are the compaction sysctls; nil takes Linux's defaults
	// (DefaultCompactionSysctls).
	Compaction *CompactionSysctls
}

// CompactionSysctls are the vm sysctls of memory compaction
// (mm/compaction.c, Linux 6.18). A set of them is used as given: start
// from DefaultCompactionSysctls to change one.
type CompactionSysctls struct {
	// ExtfragThreshold is vm.extfrag_threshold (0..1000, default 500):
	// a costly-order compaction is skipped when the fragmentation index
	// says the failure is a lack of memory (index <= threshold).
	ExtfragThreshold int
	// Proactiveness is vm.compaction_proactiveness (0..100, default 20);
	// 0 disables proactive compaction.
	Proactiveness int
	// ProactivenessLeeway is vm.compaction_proactiveness_leeway (0..100,
	// default 10): how far above the low mark the fragmentation score
	// may rise before proactive compaction starts.
	ProactivenessLeeway int
	// UnevictableAllowed is vm.compact_unevictable_allowed (default 1,
	// CONFIG_COMPACT_UNEVICTABLE_DEFAULT without PREEMPT_RT): compaction
	// migrates mlocked pages.
	UnevictableAllowed bool
}

// DefaultCompactionSysctls are the compaction sysctls of a Linux 6.18
// kernel as booted (sysctl_extfrag_threshold,
// sysctl_compaction_proactiveness and its leeway,
// sysctl_compact_unevictable_allowed); the project's host reads 500 and
// 20 (REFERENCE.md).
func DefaultCompactionSysctls() CompactionSysctls {
	return CompactionSysctls{ExtfragThreshold: 500, Proactiveness: 20, ProactivenessLeeway: 10, UnevictableAllowed: true}
}

// check validates the sysctls' ranges.
func (c *CompactionSysctls) check() error {
	if c.ExtfragThreshold < 0 || c.ExtfragThreshold > 1000 || c.Proactiveness < 0 || c.Proactiveness > 100 ||
		c.ProactivenessLeeway < 0 || c.ProactivenessLeeway > 100 {
		return fmt.Errorf("kernel: compaction sysctls %+v outside extfrag_threshold 0..1000, compaction_proactiveness 0..100, leeway 0..100", *c)
	}
	return nil
}

// ReclaimCost prices reclaim work and the IO of faults. Direct reclaim
// charges it to the allocating task as stall time; kswapd spends it in
// the background.
type ReclaimCost struct {
	ScanNsPerPage     int64 // isolating and checking one LRU page
	DropFileNsPerPage int64 // freeing one clean page-cache page
	SwapOutNsPerPage  int64 // writing one anonymous page to swap
	// MigrateNsPerPage is moving one page to another node when its node
	// goes offline (unmap, copy, remap); 0 takes the default, since no
	// migration is free.
	MigrateNsPerPage int64
	// ReadNsPerPage is reading one 4 KiB page-cache page from disk on a
	// read(2) miss (ReadFile); 0 takes the default, since no disk read
	// is free.
	ReadNsPerPage int64
	// SwapInNsPerPage is reading one 4 KiB anonymous page back from the
	// swap device on a fault (TouchAnon); 0 takes the default.
	SwapInNsPerPage int64
	// SwapReadaheadNsPerPage is what each further page of a swap-in's
	// readahead adds to the fault's one read: swap_cluster_readahead
	// submits the cluster's pages under one block plug, so neighbouring
	// slots go to the disk as one larger request. 0 takes the default.
	SwapReadaheadNsPerPage int64
	// SwapInCPUNsPerPage is the faulting task's time for each page a
	// swap-in reads, its own and each readahead page, beyond the disk:
	// allocating and charging the page, adding it to the swap cache and
	// the LRU (swapin_readahead, __read_swap_cache_async).
	// SwapCacheFaultNs is the time of a fault that maps a page from the
	// swap cache (do_swap_page after the read, or without one on a
	// readahead page or one swapped out and not yet freed). Neither is
	// a memory stall: the task is running. 0 takes the defaults.
	SwapInCPUNsPerPage, SwapCacheFaultNs int64
	// ReadCPUNsPerPage is what a page-cache miss costs the reader beyond
	// the disk read (ReadNsPerPage): allocating the page and adding it
	// to the page cache and the LRU. ReadHitNs is a read(2) of a page
	// that is cached: the system call and the copy. Neither is a memory
	// stall. 0 takes the defaults.
	ReadCPUNsPerPage, ReadHitNs int64
	// SwapWriteNsPerRequest and SwapWriteNsPerPage are how long the swap
	// device takes to complete one write request of n pages: the first
	// plus n times the second, after the requests before it (used with
	// MachineConfig.Clock). 0 takes the defaults.
	SwapWriteNsPerRequest, SwapWriteNsPerPage int64
}

// DefaultReadNsPerPage is a random 4 KiB read from the disk of this
// project's build machine (a virtio block device under Linux 6.18),
// measured with a short Go program kept outside the repository: it
// writes a 2 GiB scratch file, opens it with O_DIRECT (so no read is
// served from the page cache), and times 20,000 pread(2) calls of 4 KiB
// at uniformly random 4 KiB-aligned offsets one by one (time.Now around
// each call, buffer 4 KiB-aligned). Four runs gave means of 77.9, 59.5,
// 62.0 and 51.4 us (medians 45.8 to 54.4 us, p99 98 to 135 us); the
// default is the mean of the four means, 62.7 us, rounded. A page-cache
// miss without a sequential pattern and a swap-in are each one such read
// (filemap_read's readahead of a single page; do_swap_page ->
// swap_read_folio), so both defaults take it.
const DefaultReadNsPerPage = 63_000

// DefaultSwapOutNsPerPage is the CPU time reclaim spends swapping one
// page out beyond scanning it: unmapping it, adding it to the swap cache
// and submitting its write (try_to_unmap, add_to_swap, pageout), which
// the reclaiming task pays; it does not wait for the write. Measured on
// the same machine with a short Go program kept outside the repository:
// with a 1 GiB swap file active, it faults in 256 MiB of anonymous
// memory (MADV_NOHUGEPAGE) and times madvise(MADV_PAGEOUT) over it
// (reclaim_pages -> shrink_folio_list, which skips the reference check),
// twice per run with a touch of every page between. Four runs gave 2.71,
// 2.62; 2.38, 2.19; 2.46, 2.69; 2.50 and 2.33 us a page, mean 2.49 us;
// less the 0.1 us of ScanNsPerPage, 2.4 us.
const DefaultSwapOutNsPerPage = 2_400

// DefaultSwapWriteNsPerRequest and DefaultSwapWriteNsPerPage are the swap
// device's write latency: a request of n pages completes
// DefaultSwapWriteNsPerRequest + n * DefaultSwapWriteNsPerPage after it
// starts. Measured on the same disk with a third short Go program kept
// outside the repository: it writes a fallocated 512 MiB (or 64 MiB)
// scratch file opened with O_DIRECT sequentially in 128 KiB (or 4 KiB)
// 4 KiB-aligned writes, one at a time, time.Now around the whole run.
// Four runs gave 48.2, 47.9, 47.4 and 54.3 us per 4 KiB write (mean 49.5)
// and 3.3, 3.3, 4.1 and 3.8 us a page for 128 KiB writes (116 us per
// write): a line through the two means gives 47.4 us per request and
// 2.15 us per page. Sequential writes are what swap writeout issues: a
// reclaim batch's slots are neighbours (allocSwapSlot) and its bios are
// merged under shrink_lruvec's block plug. During a validation run of
// cache-anon-swappiness60 on the host, /proc/diskstats showed writes of
// 168 KiB on average (2,765,528 sectors in 8,410 requests, 165,317
// merges).
const (
	DefaultSwapWriteNsPerRequest = 47_400
	DefaultSwapWriteNsPerPage    = 2_150
)

// DefaultSwapReadaheadNsPerPage is what one more 4 KiB page adds to a
// read from the same disk when it is part of one contiguous request, as
// swap readahead's cluster of up to 8 slots is. Measured with a second
// short Go program kept outside the repository, in the same way as
// DefaultReadNsPerPage (a 2 GiB scratch file opened with O_DIRECT,
// 4 KiB-aligned buffers, time.Now around each pread(2)), alternating
// 10,000 reads of 4 KiB at random 4 KiB-aligned offsets with 10,000
// reads of 32 KiB (8 pages) at random 32 KiB-aligned offsets. Four runs
// gave means of 55.4, 59.6, 57.8 and 55.9 us for 4 KiB and 73.5, 81.6,
// 76.6 and 75.1 us for 32 KiB (medians 45.7 to 53.1 and 66.3 to 75.5
// us): the seven further pages add 19.5 us, 2.8 us a page, a twentieth
// of a random read.
const DefaultSwapReadaheadNsPerPage = 2_800

// DefaultSwapInCPUNsPerPage and DefaultSwapCacheFaultNs are the time a
// swap-in takes beyond its disk read, measured on the same machine with a
// short Go program kept outside the repository. With a 1 GiB swap file
// active, in a cgroup v1 memory cgroup of its own, it faults in 256 MiB
// of anonymous memory (MADV_NOHUGEPAGE) and, five times over, pages it
// all out (madvise(MADV_PAGEOUT)), waits for the writes, and times a
// sweep of one write a page. Left in the swap cache, the pages are mapped
// back by minor faults alone, no read: 1.57, 1.61, 1.64, 1.70, 1.71, 1.19
// and 1.31 us a page in seven runs, mean 1.5 us (DefaultSwapCacheFaultNs).
// Freed from it first (the cgroup's limit set to 16 MiB and back), the
// sweep reads them back, about 61,700 pages in 7,740 major faults with
// swap readahead, and took 12.16, 13.92, 12.48, 12.35 and 11.87 us a page
// read; in each run 2,000 random O_DIRECT reads of 32 KiB (a readahead
// cluster) on the same disk took 75.4, 87.8, 75.5, 75.4 and 68.5 us, 9.4,
// 11.0, 9.5, 9.5 and 8.6 us a page read at 7.98 pages a fault, and the
// faults that map the pages 1.3 us a page (that session's minor-fault
// runs): the rest, 1.4, 1.6, 1.7, 1.6 and 2.0 us, mean 1.7 us a page read
// (DefaultSwapInCPUNsPerPage), is allocating and charging the page,
// adding it to the swap cache and the LRU. Part of a read's own CPU
// time (submitting it, which in this VM costs about 25 us of a 4 KiB
// O_DIRECT read's 60-80) is inside the disk latency already, so the time
// is taken from the sweep's wall time, not its CPU time.
const (
	DefaultSwapInCPUNsPerPage = 1_700
	DefaultSwapCacheFaultNs   = 1_500
)

// DefaultReadCPUNsPerPage and DefaultReadHitNs are what a read(2) of one
// 4 KiB page-cache page costs beyond the disk: on a miss, allocating the
// page, adding it to the page cache and the LRU and completing the read
// (filemap_read's filemap_create_folio path), and on a hit the system
// call and the copy. Measured on the same machine with a short Go
// program kept outside the repository: on a 2 GiB file written, synced
// and dropped from the page cache (drop_caches), opened once with
// FADV_RANDOM and once with O_DIRECT, it alternates a pread(2) of a page
// not yet read with an O_DIRECT pread of another random page, 10,000
// pairs a run, then reads the 10,000 pages again as hits. The misses took
// 14.4, 5.2, 4.5 and 4.5 us longer than the O_DIRECT reads beside them
// on average (means 97.0, 87.7, 85.0 and 84.8 against 82.6, 82.5, 80.6
// and 80.3 us), mean 7.2 us; the hits 2.18, 2.33, 2.46 and 2.09 us, mean
// 2.3 us.
const (
	DefaultReadCPUNsPerPage = 7_200
	DefaultReadHitNs        = 2_300
)

// DefaultReclaimCost is a modest SSD-backed machine: scanning about 0.1
// us a page and dropping clean cache 0.5 us (assumptions), migration 2 us
// a page (an assumption, not a measurement: unmapping, copying 4 KiB
// across nodes and remapping at about 2 GB/s), and, measured on this
// project's build machine, swapping a page out (DefaultSwapOutNsPerPage),
// page-cache and swap reads (DefaultReadNsPerPage), each further page of
// a swap readahead (DefaultSwapReadaheadNsPerPage), the time of
// swap-ins and page-cache reads beyond the disk (DefaultSwapInCPUNsPerPage,
// DefaultSwapCacheFaultNs, DefaultReadCPUNsPerPage, DefaultReadHitNs), and the
// swap device's write latency (DefaultSwapWriteNsPerRequest,
// DefaultSwapWriteNsPerPage).
func DefaultReclaimCost() ReclaimCost {
	return ReclaimCost{ScanNsPerPage: 100, DropFileNsPerPage: 500, SwapOutNsPerPage: DefaultSwapOutNsPerPage, MigrateNsPerPage: 2_000,
		ReadNsPerPage: DefaultReadNsPerPage, SwapInNsPerPage: DefaultReadNsPerPage,
		SwapReadaheadNsPerPage: DefaultSwapReadaheadNsPerPage,
		SwapInCPUNsPerPage:     DefaultSwapInCPUNsPerPage, SwapCacheFaultNs: DefaultSwapCacheFaultNs,
		ReadCPUNsPerPage: DefaultReadCPUNsPerPage, ReadHitNs: DefaultReadHitNs,
		SwapWriteNsPerRequest: DefaultSwapWriteNsPerRequest, SwapWriteNsPerPage: DefaultSwapWriteNsPerPage}
}

// Machine is the memory of a modelled machine: per node a zone with its
// buddy allocator and watermarks, active and inactive LRU lists of
// anonymous and page-cache pages per cgroup, swap, unevictable (mlocked)
// and kernel pages, the files whose pages the page cache holds, and the
// tasks that own anonymous memory. It is pure state: the simulator calls
// it and schedules what it asks for (kswapd steps, OOM reaps) as events.
type Machine struct {
	cfg MachineConfig
	// compaction is *cfg.Compaction, or the defaults.
	compaction CompactionSysctls
	nodes      []*node
	tasks      []taskState // index is the task slot; pids map to slots
	slot       map[int64]int
	// cgPaths are the cgroups pages can be charged to, "/" first, in
	// creation order (a parent before its children); cgIndex inverts it
	// and cgParent gives each one's parent (-1 for the root). The
	// indices are the memory controller's too.
	cgPaths  []string
	cgIndex  map[string]int
	cgParent []int
	cgroups  *Cgroups
	// preorder caches cgPreorder; nodeOrder lists the node indices.
	preorder, nodeOrder []int
	// files are the files whose pages the page cache holds, by FileID.
	files []fileState

	// swap is the swap device and the swap cache's counts (swap.go),
	// swapRA swap readahead's window (swapin_nr_pages' state), and
	// pageCluster vm.page-cluster.
	swap        swapDevice
	swapRA      swapRAState
	pageCluster int
	stats       Stats
	vmstat      VMStat
	// pcps[cpu][node] are the per-CPU page lists (nil without CPUNodes).
	pcps [][]*PCP
	// userMinFreeKbytes is user_min_free_kbytes: the configured
	// vm.min_free_kbytes, or -1 when the machine computed it. Memory
	// hotplug recomputes min_free_kbytes but keeps a larger user value.
	userMinFreeKbytes int64
	// checkSeen is CheckInvariants' scratch: a flag per pfn.
	checkSeen []bool
	// touch records what operations touched, for CheckTouched (nil
	// unless TrackTouched).
	touch *touchLog
	// isolated is reclaim's scratch: the pages one batch took off a list
	// (isolate_lru_folios), reused so that reclaim allocates nothing.
	isolated []int32
	// wb is swap writeback in flight (writeback.go), and async says swap
	// writes take time (a clock and swap).
	wb    writeback
	async bool
}

// node is one NUMA node's memory.
type node struct {
	zone  Zone
	buddy *Buddy
	// lru holds the node's LRU lists per cgroup (the kernel's lruvec per
	// memcg and node), indexed like Machine.cgPaths.
	lru []lruvec
	// pages holds per-page state for every page of the node, by
	// pfn - start: owner, LRU flags and links.
	pages pageTable
	// kswapdWanted is set when an allocation found the node below its
	// low watermark (or without a free block of its order) and cleared
	// when kswapd went back to sleep.
	kswapdWanted bool
	// kswapdOrder is pgdat->kswapd_order, the largest order a wake-up
	// asked for since kswapd's run began; kswapdRun is the run in
	// progress (balance_pgdat's state across KswapdStep batches).
	kswapdOrder int
	kswapdRun   kswapdRun
	// kswapdCPU is the CPU kswapd runs on, whose per-CPU lists take the
	// pages it reclaims: the node's first CPU (kswapd is bound to
	// cpumask_of_node; which of them the scheduler picks is not
	// modelled), -1 for a node without CPUs or a machine without
	// per-CPU lists (the pages go straight to the buddy allocator).
	kswapdCPU int
	// compact is the zone's compaction state and kcompactd's.
	compact compactZoneState
	// offline is set while the node's memory is offline (OfflineNode):
	// its zone manages no pages and the page allocator skips it.
	offline bool
	// tl is the machine's touch record (nil unless TrackTouched).
	tl *touchLog
}

// filePages counts the node's page-cache pages, all cgroups (the root
// lruvec's hierarchical file lists).
func (n *node) filePages() int64 {
	return n.lru[0].hier[InactiveFile] + n.lru[0].hier[ActiveFile]
}

// anonPages counts the node's evictable anonymous pages, all cgroups.
func (n *node) anonPages() int64 {
	return n.lru[0].hier[InactiveAnon] + n.lru[0].hier[ActiveAnon]
}

// pageState is one page's struct page, as far as the model needs it:
// who owns it and which life it is in (kind), its LRU flags and its
// place on an LRU list.
type pageState struct {
	// owner is the task slot + 1 for anonymous and mlocked pages, the
	// FileID + 1 for page-cache pages, else 0.
	owner int32
	// vma is the anonymous page's mapping in its task (0 the heap of
	// AllocAnon, else a MapAnon mapping).
	vma int32
	// idx is the page's place in its owner: the index of its slot in
	// the mapping, its index in the task's mlocked pages, or its page
	// index in the file.
	idx int32
	// prev and next link the page into its LRU list (noPage when the
	// page is on none): node-relative page indices, prev toward the
	// head (youngest), next toward the tail (oldest).
	prev, next int32
	// cg is the cgroup the page is charged to (index into cgPaths; at
	// most maxCgroups): user pages always, kernel pages when they were
	// allocated with __GFP_ACCOUNT (pgKmem).
	cg    int16
	kind  pageKind
	flags pageFlags
}

// maxCgroups bounds the cgroups a machine keeps (pageState.cg is 16-bit).
const maxCgroups = 1 << 15

type pageKind uint8

const (
	pageFree pageKind = iota
	pageAnon
	pageFile
	pageMlocked
	pageKernel
)

// onLRU reports whether pfn is on an LRU list as try_to_claim_block
// counts it (PageLRU): an evictable page on its list, or an mlocked page
// (on the unevictable list in the kernel; the model keeps no list for
// it).
func (n *node) onLRU(pfn int64) bool {
	p := n.page(pfn)
	return p.flags&pgLRU != 0 || p.kind == pageMlocked
}

// page returns the state of pfn on node n.
func (n *node) page(pfn int64) *pageState { return n.pages.at(int32(pfn - n.zone.StartPFN)) }

// index returns pfn's node-relative index.
func (n *node) index(pfn int64) int32 { return int32(pfn - n.zone.StartPFN) }

// claim records pfn's new life as kind for owner (a task slot + 1, a
// FileID + 1, or 0) at position idx of mapping vma, charged to cgroup
// cg. It is not on any list yet and has no flags.
func (n *node) claim(pfn int64, kind pageKind, owner int32, cg int, vma, idx int32) {
	p := n.page(pfn)
	if p.kind != pageFree && p.kind != pageKernel || p.flags&pgLRU != 0 {
		panic(fmt.Sprintf("kernel: claim of pfn %d, which is in use (kind %d)", pfn, p.kind))
	}
	n.touchPFN(pfn)
	*p = pageState{owner: owner, cg: int16(cg), vma: vma, idx: idx, prev: noPage, next: noPage, kind: kind}
}

// forget ends pfn's life in the page state. The page must be off every
// list.
func (n *node) forget(pfn int64) {
	p := n.page(pfn)
	if p.flags&pgLRU != 0 {
		panic(fmt.Sprintf("kernel: free of pfn %d, which is still on an LRU list", pfn))
	}
	n.touchPFN(pfn)
	*p = pageState{prev: noPage, next: noPage}
}

// release ends pfn's life and returns it to the buddy allocator.
func (n *node) release(pfn int64) {
	n.forget(pfn)
	if err := n.buddy.Free(pfn, 0); err != nil {
		panic("kernel: " + err.Error()) // a model bug: the page state said it was ours
	}
}

// taskState is a task and the pages it owns.
type taskState struct {
	Task
	// anon is the task's evictable anonymous memory: its heap, page by
	// page in the order it was faulted in, and its mappings; each slot
	// resident, swapped or freed.
	anon anonSpace
	cg   int // the task's cgroup, index into cgPaths
	// overHighPages is memcg_nr_pages_over_high: charges made while the
	// cgroup was above memory.high, not yet throttled for.
	overHighPages int64
	// mlocked are the task's mlocked pages; a page's pageState.idx is
	// its index here.
	mlocked []int64
	killed  bool
	// cpu is where the task runs (PlaceTask), -1 when unplaced: its
	// order-0 pages then bypass the per-CPU lists.
	cpu int
	// ownFile is the file AllocFile reads for the task, -1 until the
	// first AllocFile.
	ownFile FileID
}

// Stats counts what the machine did.
type Stats struct {
	AllocsOK, AllocsFailed   int64
	DirectReclaims           int64
	DirectReclaimStallNs     int64
	KswapdRuns               int64
	PagesReclaimedFile       int64
	PagesSwappedOut          int64
	OOMKills                 int64
	MemcgHighStallNs         int64 // memory.high throttling
	AtomicReserveAllocations int64 // succeeded only thanks to the GFP_ATOMIC discount
	PagesMigrated            int64 // moved off a node going offline
	PagesDroppedOffline      int64 // page cache dropped, not migrated, by offlining
	CompactStallNs           int64 // direct compaction, charged to allocating tasks
	KcompactdNs              int64 // kcompactd's and proactive compaction's work
}

// ErrNoTask is returned for a pid the machine does not know.
var ErrNoTask = errors.New("kernel: no such task")

// withDefaults checks cfg and fills its zero values with the kernel's
// defaults (watermark_scale_factor 10, the measured reclaim costs,
// page-cluster 3, the compaction sysctls), returning the compaction
// sysctls and page-cluster it settled on.
func (cfg *MachineConfig) withDefaults() (CompactionSysctls, int, error) {
	if len(cfg.NodePages) == 0 || len(cfg.Zonelists) != len(cfg.NodePages) {
		return CompactionSysctls{}, 0, fmt.Errorf("kernel: %d nodes but %d zonelists", len(cfg.NodePages), len(cfg.Zonelists))
	}
	if cfg.Swappiness < 0 || cfg.Swappiness > 200 {
		return CompactionSysctls{}, 0, fmt.Errorf("kernel: swappiness %d outside 0..200", cfg.Swappiness)
	}
	if cfg.WatermarkScaleFactor == 0 {
		cfg.WatermarkScaleFactor = 10
	}
	if cfg.Cost == (ReclaimCost{}) {
		cfg.Cost = DefaultReclaimCost()
	}
	def := DefaultReclaimCost()
	for _, c := range []struct{ v, d *int64 }{
		{&cfg.Cost.MigrateNsPerPage, &def.MigrateNsPerPage},
		{&cfg.Cost.ReadNsPerPage, &def.ReadNsPerPage},
		{&cfg.Cost.SwapInNsPerPage, &def.SwapInNsPerPage},
		{&cfg.Cost.SwapReadaheadNsPerPage, &def.SwapReadaheadNsPerPage},
		{&cfg.Cost.SwapInCPUNsPerPage, &def.SwapInCPUNsPerPage},
		{&cfg.Cost.SwapCacheFaultNs, &def.SwapCacheFaultNs},
		{&cfg.Cost.ReadCPUNsPerPage, &def.ReadCPUNsPerPage},
		{&cfg.Cost.ReadHitNs, &def.ReadHitNs},
		{&cfg.Cost.SwapWriteNsPerRequest, &def.SwapWriteNsPerRequest},
		{&cfg.Cost.SwapWriteNsPerPage, &def.SwapWriteNsPerPage},
	} {
		if *c.v == 0 {
			*c.v = *c.d
		}
	}
	pageCluster := defaultPageCluster
	if cfg.PageCluster != nil {
		pageCluster = *cfg.PageCluster
	}
	if pageCluster < 0 || pageCluster > maxPageCluster || cfg.SwapPages < 0 || cfg.SwapPages >= math.MaxInt32 {
		return CompactionSysctls{}, 0, fmt.Errorf("kernel: page-cluster %d outside 0..%d, or swap of %d pages outside 0..%d", pageCluster, maxPageCluster, cfg.SwapPages, math.MaxInt32-1)
	}
	cfg.PageCluster = &pageCluster
	compaction := DefaultCompactionSysctls()
	if cfg.Compaction != nil {
		compaction = *cfg.Compaction
	}
	if err := compaction.check(); err != nil {
		return CompactionSysctls{}, 0, err
	}
	cfg.Compaction = &compaction
	return compaction, pageCluster, nil
}

// NewMachine builds the machine's zones, buddy allocators and watermarks.
func NewMachine(cfg MachineConfig) (*Machine, error) {
	compaction, pageCluster, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cgroups, err := NewCgroups(1)
	if err != nil {
		return nil, err
	}
	cgroups.SetMemsw(cfg.CgroupV1)
	m := &Machine{cfg: cfg, compaction: compaction, slot: map[int64]int{}, cgPaths: []string{"/"}, cgIndex: map[string]int{"/": 0}, cgParent: []int{-1}, cgroups: cgroups,
		swap: newSwapDevice(cfg.SwapPages), swapRA: newSwapRAState(), pageCluster: pageCluster,
		async: cfg.Clock != nil && cfg.SwapPages > 0}
	zones := make([]Zone, len(cfg.NodePages))
	start := int64(0)
	for n, pages := range cfg.NodePages {
		// Align every node to a MAX_ORDER block so buddies never cross nodes.
		pages -= pages % (1 << MaxOrder)
		if pages < 1<<MaxOrder {
			return nil, fmt.Errorf("kernel: node %d has %d pages, need at least %d", n, cfg.NodePages[n], 1<<MaxOrder)
		}
		if pages > math.MaxInt32 {
			// LRU links are 32-bit page indices (pageState.prev, next).
			return nil, fmt.Errorf("kernel: node %d has %d pages, at most %d (8 TiB) are modelled", n, pages, math.MaxInt32)
		}
		b, err := NewBuddy(start, pages)
		if err == nil {
			err = b.AddRange(start, pages)
		}
		if err != nil {
			return nil, fmt.Errorf("kernel: node %d: %w", n, err)
		}
		zones[n] = Zone{Node: n, Type: ZoneNormal, StartPFN: start, SpannedPages: pages, PresentPages: pages, ManagedPages: b.Managed()}
		nd := &node{buddy: b, pages: newPageTable(pages), lru: []lruvec{newLruvec()}, kswapdCPU: -1}
		b.isLRU = nd.onLRU
		nd.compact.skip = make([]bool, len(b.blockMT))
		m.nodeOrder = append(m.nodeOrder, len(m.nodes))
		m.nodes = append(m.nodes, nd)
		start += pages
	}
	minFree := cfg.MinFreeKbytes
	m.userMinFreeKbytes = minFree
	if minFree == 0 {
		minFree = CalculateMinFreeKbytes(zones)
		m.userMinFreeKbytes = -1
	}
	if cfg.Khugepaged {
		// khugepaged starts with THP enabled and raises min_free_kbytes
		// (set_recommended_min_free_kbytes), above a user's value too.
		minFree = THPMinFreeKbytes(zones, minFree)
	}
	if err := SetupWatermarks(zones, minFree, cfg.WatermarkScaleFactor); err != nil {
		return nil, err
	}
	for n := range m.nodes {
		m.nodes[n].zone = zones[n]
		m.resetCachedPositions(n)
		m.nodes[n].compact.initMigrate = zones[n].StartPFN
	}
	m.cfg.MinFreeKbytes = minFree
	if len(cfg.CPUNodes) > 0 {
		if err := m.newPCPs(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// AddTask registers a task (its pid, comm, oom_score_adj, cgroup) so that
// it can own pages and be chosen by the OOM killer. Its page counters
// start at zero whatever t says, and its page-table bytes follow them.
func (m *Machine) AddTask(t Task) error {
	if _, dup := m.slot[t.PID]; dup {
		return fmt.Errorf("kernel: task %d added twice", t.PID)
	}
	t.RSSAnonPages, t.RSSFilePages, t.RSSShmemPages, t.SwapEntries = 0, 0, 0, 0
	if t.Cgroup == "" {
		t.Cgroup = "/"
	}
	cg, ok := m.cgIndex[t.Cgroup]
	if !ok {
		return fmt.Errorf("kernel: task %d is in cgroup %q, which does not exist", t.PID, t.Cgroup)
	}
	m.slot[t.PID] = len(m.tasks)
	m.tasks = append(m.tasks, taskState{Task: t, cg: cg, cpu: -1, ownFile: -1, anon: newAnonSpace()})
	return nil
}

// PlaceTask says which CPU task pid runs on, so that its order-0 pages
// go through that CPU's per-CPU page lists.
func (m *Machine) PlaceTask(pid int64, cpu int) error {
	s, ok := m.slot[pid]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	if cpu < 0 || cpu >= len(m.pcps) {
		return fmt.Errorf("kernel: task %d placed on cpu %d, machine has %d CPUs with page lists", pid, cpu, len(m.pcps))
	}
	m.tasks[s].cpu = cpu
	return nil
}

// newPCPs builds the per-CPU page lists: batch and high from
// zone_batchsize and zone_highsize, high split among the node's CPUs.
func (m *Machine) newPCPs() error {
	perNode := make([]int, len(m.nodes))
	for cpu, n := range m.cfg.CPUNodes {
		if n < 0 || n >= len(m.nodes) {
			return fmt.Errorf("kernel: cpu %d on node %d of %d", cpu, n, len(m.nodes))
		}
		perNode[n]++
	}
	for cpu, ni := range m.cfg.CPUNodes {
		if m.nodes[ni].kswapdCPU < 0 {
			m.nodes[ni].kswapdCPU = cpu
		}
	}
	for range m.cfg.CPUNodes {
		lists := make([]*PCP, len(m.nodes))
		for ni, n := range m.nodes {
			p, err := NewPCP(n.buddy, PagesetConfig(&n.zone, perNode[ni], len(m.cfg.CPUNodes), 0))
			if err != nil {
				return fmt.Errorf("kernel: node %d: %w", ni, err)
			}
			lists[ni] = p
		}
		m.pcps = append(m.pcps, lists)
	}
	return nil
}

// drainAllPages is drain_all_pages: every per-CPU list back to the buddy
// allocators. It reports how many pages it returned.
func (m *Machine) drainAllPages() int64 {
	var total int64
	for _, lists := range m.pcps {
		total += DrainAllPages(lists)
	}
	return total
}

// PCPPages returns the pages sitting on per-CPU lists of node ni.
func (m *Machine) PCPPages(ni int) int64 {
	var total int64
	for _, lists := range m.pcps {
		total += lists[ni].Count()
	}
	return total
}

// addCgroupIndex registers path, which the memory controller just
// created, for LRU bookkeeping. Its parent must exist.
func (m *Machine) addCgroupIndex(path string) error {
	if _, dup := m.cgIndex[path]; dup {
		return fmt.Errorf("kernel: cgroup %q exists", path)
	}

	i := len(m.cgPaths)
	if ci, ok := m.cgroups.index[path]; !ok || int(ci) != i {
		panic(fmt.Sprintf("kernel: cgroup %s is %d in the memory controller, %d here", path, ci, i))
	}
	m.cgIndex[path] = i
	m.cgPaths = append(m.cgPaths, path)
	m.cgParent = append(m.cgParent, int(m.cgroups.cgs[i].parent))
	for _, n := range m.nodes {
		n.lru = append(n.lru, newLruvec())
	}
	return nil
}

// Task returns the task's current counters.
func (m *Machine) Task(pid int64) (Task, bool) {
	s, ok := m.slot[pid]
	if !ok {
		return Task{}, false
	}
	return m.tasks[s].view(), true
}

// view is the task as the OOM killer sees it. Page tables are modelled as
// one 4 KiB PTE page per 512 pages the task maps, resident or swapped
// (mm_pgtables_bytes; the upper levels, 1/512 of that, are left out).
func (t *taskState) view() Task {
	v := t.Task
	if !v.NoMM {
		v.PgtablesBytes = (v.RSSAnonPages + v.SwapEntries + 511) / 512 * PageSize
	}
	return v
}

// Tasks returns every task in registration order (the order of the OOM
// killer's process walk).
func (m *Machine) Tasks() []Task {
	out := make([]Task, len(m.tasks))
	for i := range m.tasks {
		out[i] = m.tasks[i].view()
	}
	return out
}

// Stats returns the counters so far.
func (m *Machine) Stats() Stats { return m.stats }

// Config returns the configuration with defaults filled in. Its
// MinFreeKbytes is the current vm.min_free_kbytes, which memory hotplug
// recomputes (OfflineNode, OnlineNode).
func (m *Machine) Config() MachineConfig { return m.cfg }

// Zone returns node n's zone (watermarks, managed pages).
func (m *Machine) Zone(n int) Zone { return m.nodes[n].zone }

// PagesetConfig returns the per-CPU list limits (batch, high) that each
// CPU of node n's zone has now, as the kernel sized them from the zone.
func (m *Machine) PagesetConfig(n int) PCPConfig { return m.pagesetConfig(n) }

// NodeFreePages returns node n's free pages.
func (m *Machine) NodeFreePages(n int) int64 { return m.nodes[n].buddy.FreePages() }

// NodeFilePages returns node n's page-cache pages.
func (m *Machine) NodeFilePages(n int) int64 { return m.nodes[n].filePages() }

// NodeAnonPages returns node n's evictable anonymous pages.
func (m *Machine) NodeAnonPages(n int) int64 { return m.nodes[n].anonPages() }

// NodeLRUPages returns the sizes of node n's evictable LRU lists, all
// cgroups together, indexed by InactiveAnon..ActiveFile (nr_inactive_anon,
// nr_active_anon, nr_inactive_file, nr_active_file of the node in
// /proc/vmstat).
func (m *Machine) NodeLRUPages(n int) [NumEvictableLRU]int64 { return m.nodes[n].lru[0].hier }

// SwapUsed returns the swap slots in use: swapped-out pages' and those
// of pages in the swap cache (SwapTotal - SwapFree in meminfo).
func (m *Machine) SwapUsed() int64 { return m.swap.used }

// TotalPages is totalram_pages + total_swap_pages, the OOM killer's scale
// for a global OOM.
func (m *Machine) TotalPages() int64 {
	total := m.cfg.SwapPages
	for _, n := range m.nodes {
		total += n.zone.ManagedPages
	}
	return total
}

// nodeOf returns the node holding pfn.
func (m *Machine) nodeOf(pfn int64) (int, *node) {
	for i, n := range m.nodes {
		if pfn >= n.zone.StartPFN && pfn < n.zone.StartPFN+n.zone.SpannedPages {
			return i, n
		}
	}
	panic(fmt.Sprintf("kernel: pfn %d on no node", pfn))
}
