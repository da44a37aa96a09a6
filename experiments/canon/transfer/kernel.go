package transfer

import (
	"fmt"
	"math"
	"strconv"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// kernelSizes is what the kernel model derived from a machine's memory
// when it booted, as Linux derives it: vm.min_free_kbytes, and each
// node's zone (its managed pages, watermarks and per-CPU list limits).
type kernelSizes struct {
	MinFreeKbytes int64
	Nodes         []world.NodeSnapshot
}

// bootMinFreeKbytes is vm.min_free_kbytes as the kernel computes it at
// boot (calculate_min_free_kbytes) over the booted zones, before
// khugepaged raises it (set_recommended_min_free_kbytes) when
// transparent huge pages are enabled, as the scenario's thp_enabled =
// "madvise" does.
func (ks kernelSizes) bootMinFreeKbytes() int64 {
	zones := make([]kernel.Zone, len(ks.Nodes))
	for i, n := range ks.Nodes {
		zones[i] = kernel.Zone{Node: i, Type: kernel.ZoneNormal, PresentPages: n.ManagedPages, ManagedPages: n.ManagedPages, Wmark: n.Wmark}
	}
	return kernel.CalculateMinFreeKbytes(zones)
}

// bootStopNs is where sizeKernel's run stops: its first sample, taken
// once the machine has booted.
const bootStopNs = 1

// sizeKernel boots sc's machine in a run stopped at its first sample and
// returns the sizes the kernel model gave it. Nothing of the run but the
// boot is used, so it costs the machine's set-up only.
func sizeKernel(env *canon.Env, sc *scenario.Scenario) (kernelSizes, error) {
	var ks kernelSizes
	_, err := env.Run(sc, world.Options{StopAtNs: bootStopNs, Observer: func(s *world.Snapshot) {
		if ks.Nodes == nil {
			ks.MinFreeKbytes = s.MinFreeKbytes
			ks.Nodes = append([]world.NodeSnapshot{}, s.Nodes...)
		}
	}})
	if err == nil && len(ks.Nodes) == 0 {
		err = fmt.Errorf("boot of %s: the observer saw no node", sc.Source)
	}
	return ks, err
}

// pagesMiB is a page count in MiB.
func pagesMiB(pages int64) float64 { return float64(pages) * 4096 / (1 << 20) }

// kernelTable tabulates, per node size, what the kernel model sized from
// it, and says how the reserves move relative to the memory.
func kernelTable(out *canon.Out, pts []*point) {
	var rows [][]string
	for _, p := range pts {
		for _, g := range sameNodes(p.Kernel.Nodes) {
			n := g.node
			rows = append(rows, []string{sizeLabel(p.NodeMiB), g.ids, canon.Fixed(pagesMiB(n.ManagedPages), 1), strconv.FormatInt(p.Kernel.bootMinFreeKbytes(), 10), strconv.FormatInt(p.Kernel.MinFreeKbytes, 10),
				canon.Fixed(pagesMiB(n.Wmark.Min), 2), canon.Fixed(pagesMiB(n.Wmark.Low), 2), canon.Fixed(pagesMiB(n.Wmark.High), 2), canon.Fixed(100*float64(n.Wmark.High)/float64(n.ManagedPages), 3),
				strconv.FormatInt(n.PCP.Batch, 10), strconv.FormatInt(n.PCP.HighMin, 10)})
		}
	}
	first, last := pts[0], pts[len(pts)-1]
	ratio := func(get func(*point) int64) string {
		return canon.Fixed(float64(get(last))/float64(get(first)), 2)
	}
	high := func(p *point) int64 { return p.Kernel.Nodes[0].Wmark.High }
	highShare := func(p *point) string {
		n := p.Kernel.Nodes[0]
		return canon.Fixed(100*float64(n.Wmark.High)/float64(n.ManagedPages), 2) + " %"
	}
	k := last.K / first.K
	out.P("What the kernel model sizes from the memory at boot is not scaled by the experiment: it follows from the node size as in Linux. `vm.min_free_kbytes` is `int_sqrt(lowmem kB × 16)` (`calculate_min_free_kbytes`), raised, since the scenario's `thp_enabled = \"madvise\"` starts khugepaged, to 11 pageblocks a zone, at most 5 %% of memory (`set_recommended_min_free_kbytes`); it is shared among the nodes as their min watermarks; low and high lie above min by the larger of a quarter of min and `watermark_scale_factor` (0.1 %%) of the zone (`setup_per_zone_wmarks`); a CPU's per-CPU list holds up to the low watermark split among the node's CPUs, taken in batches of about 0.1 %% of the zone but at most 63 pages (`zone_set_pageset_high_and_batch`). From %s to %s a node (k × %s, √k = %s), `min_free_kbytes` grows × %s and node 0's high watermark × %s, from %s to %s of its memory: a larger machine keeps a smaller share in reserve, and at k times the rates its reserve lasts a shorter time.",
		sizeLabel(first.NodeMiB), sizeLabel(last.NodeMiB), canon.Fixed(k, 0), canon.Fixed(math.Sqrt(k), 2),
		ratio(func(p *point) int64 { return p.Kernel.MinFreeKbytes }), ratio(high), highShare(first), highShare(last))
	share := func(p *point, kb int64) string {
		return canon.Fixed(100*float64(kb)/float64(len(p.Kernel.Nodes)*int(p.NodeMiB)*1024), 2) + " %"
	}
	out.P("khugepaged's raise is what sets the reserve at these sizes: at %s a node `min_free_kbytes` is %d kB (%s of memory) where the boot formula alone gives %d kB (%s); at %s, %d kB (%s) against %d kB (%s).",
		sizeLabel(first.NodeMiB), first.Kernel.MinFreeKbytes, share(first, first.Kernel.MinFreeKbytes), first.Kernel.bootMinFreeKbytes(), share(first, first.Kernel.bootMinFreeKbytes()),
		sizeLabel(last.NodeMiB), last.Kernel.MinFreeKbytes, share(last, last.Kernel.MinFreeKbytes), last.Kernel.bootMinFreeKbytes(), share(last, last.Kernel.bootMinFreeKbytes()))
	out.Table("transfer-kernel-sizes", "What the kernel model derived from each node size at boot (memory and watermarks in MiB; per-CPU lists in pages, for each CPU of the node)",
		[]string{"node memory", "nodes", "managed (MiB)", "min_free_kbytes at boot", "min_free_kbytes (khugepaged)", "min (MiB)", "low (MiB)", "high (MiB)", "high (% of managed)", "pcp batch", "pcp high"}, rows)
}

// nodeGroup is a run of nodes the kernel sized alike, and their ids.
type nodeGroup struct {
	ids  string
	node world.NodeSnapshot
}

// sameNodes groups consecutive nodes with the same managed pages,
// watermarks and per-CPU lists, so that a table shows equal nodes once.
func sameNodes(nodes []world.NodeSnapshot) []nodeGroup {
	var gs []nodeGroup
	for _, n := range nodes {
		if l := len(gs) - 1; l >= 0 && gs[l].node.ManagedPages == n.ManagedPages && gs[l].node.Wmark == n.Wmark && gs[l].node.PCP == n.PCP {
			gs[l].ids += ", " + strconv.Itoa(n.ID)
			continue
		}
		gs = append(gs, nodeGroup{ids: strconv.Itoa(n.ID), node: n})
	}
	return gs
}
