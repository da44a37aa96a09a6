package world

import (
	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/sbmp"
)

// Snapshot is the state of a run at one sample, as an Observer sees it.
// The run owns it and reuses its slices: an observer copies what it keeps.
type Snapshot struct {
	// TimeNs is the simulated time of the sample.
	TimeNs int64
	// Columns and Row are the time-series sample just taken: Row[i] is
	// the value of Columns[i], as timeseries.csv will hold it.
	Columns []string
	Row     []float64
	// Nodes is each memory node's pages by kind, in kernel node order.
	Nodes []NodeSnapshot
	// OOMEvents are the OOM kills so far, oldest first.
	OOMEvents []OOMEvent
	// Processes are the processes SBMP serves, in summary order.
	Processes []ProcessSnapshot
	// MinFreeKbytes is vm.min_free_kbytes: the scenario's, or what the
	// kernel model computed from the machine's memory as Linux does.
	MinFreeKbytes int64
}

// NodeSnapshot is one memory node's pages at a sample.
type NodeSnapshot struct {
	// ID is the node's id on the machine (as numactl numbers it).
	ID        int
	FreePages int64
	FilePages int64
	AnonPages int64
	// ManagedPages, Wmark and PCP are what the kernel model derived from
	// the node's memory as Linux does: the pages the buddy allocator
	// manages, the zone's watermarks (setup_per_zone_wmarks) and each of
	// its CPUs' per-CPU list limits (zone_set_pageset_high_and_batch).
	ManagedPages int64
	Wmark        kernel.Watermarks
	PCP          kernel.PCPConfig
}

// ProcessSnapshot is one SBMP process at a sample.
type ProcessSnapshot struct {
	Name string
	Dead bool
	// Stats are its allocators' counters, summed over hot swaps.
	Stats sbmp.Stats
	// Degraded reports whether its current allocator is degraded.
	Degraded bool
	// Tier0Free is the free slots of the smallest class in each CPU's
	// Tier-0 cache, by CPU.
	Tier0Free []int
	// HeldPages are the pages the process holds from the kernel (its
	// SBMP footprint: Tier-1 blocks and Tier-2 pages).
	HeldPages int64
	// FSM is each CPU's refill FSM state (SPEC 2.1), by CPU.
	FSM []sbmp.State
	// Alerts are the SPEC 1.5 signals of the last 500 ms alert window
	// (zero before the first window closes), and AlertsAtNs when that
	// window closed (0 before).
	Alerts     [3]sbmp.Alert
	AlertsAtNs int64
}
