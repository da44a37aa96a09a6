package kernel

import "testing"

// reclaimPCPMachine is one 64 MiB node with two CPUs, a task on CPU 1
// and page cache filling memory down to the low watermark.
func reclaimPCPMachine(t *testing.T) *Machine {
	t.Helper()
	m, err := NewMachine(MachineConfig{NodePages: []int64{16384}, Zonelists: [][]int{{0}}, CPUNodes: []int{0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddTask(Task{PID: 7, Comm: "reader", Cgroup: "/"}); err != nil {
		t.Fatal(err)
	}
	if err := m.PlaceTask(7, 1); err != nil {
		t.Fatal(err)
	}
	f, err := m.AddFile(16384)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); m.NodeFreePages(0) > m.Zone(0).Wmark.Low; i++ {
		if _, err := m.ReadFile(7, f, i, 0); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestDirectReclaimFreesToTheReclaimersList: the pages a direct reclaim
// frees join the per-CPU list of the CPU it runs on
// (shrink_folio_list -> free_unref_folios), not the free lists, until
// the list reaches its high mark; a reclaim whose CPU is unknown frees
// to the buddy allocator.
func TestDirectReclaimFreesToTheReclaimersList(t *testing.T) {
	for _, tc := range []struct {
		name string
		cpu  int
	}{{"on cpu 1", 1}, {"cpu unknown", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			m := reclaimPCPMachine(t)
			pcp := m.pcps[1][0]
			beforeList, beforeFree := pcp.Count(), m.NodeFreePages(0)
			rec := m.directReclaim([]int{0}, 0, tc.cpu, MaskKernel|GFPMovable)
			if rec.reclaimed < swapClusterMax {
				t.Fatalf("reclaimed %d pages, want at least %d", rec.reclaimed, swapClusterMax)
			}
			listGain, freeGain := pcp.Count()-beforeList, m.NodeFreePages(0)-beforeFree
			if listGain+freeGain != rec.reclaimed {
				t.Fatalf("list +%d, free +%d: the %d reclaimed pages are not all accounted", listGain, freeGain, rec.reclaimed)
			}
			switch {
			case tc.cpu < 0 && listGain != 0:
				t.Fatalf("reclaim on no CPU put %d pages on cpu 1's list", listGain)
			case tc.cpu >= 0 && rec.reclaimed < pcp.High() && listGain != rec.reclaimed:
				t.Fatalf("cpu 1's list gained %d of %d reclaimed pages (high %d)", listGain, rec.reclaimed, pcp.High())
			}
		})
	}
}

// TestKswapdSetsReclaimActive: while a kswapd run is in progress every
// list of its zone keeps at most 4 batches (ZONE_RECLAIM_ACTIVE in
// nr_pcp_high); the pages kswapd reclaims go to its CPU's list (the
// node's first CPU) and reach the free lists in chunks; the flag clears
// when kswapd sleeps.
func TestKswapdSetsReclaimActive(t *testing.T) {
	m := reclaimPCPMachine(t)
	n := m.nodes[0]
	n.kswapdWanted = true
	kcpu := m.pcps[n.kswapdCPU][0]
	if n.kswapdCPU != 0 {
		t.Fatalf("kswapd runs on cpu %d, want the node's first, 0", n.kswapdCPU)
	}
	cap4 := min(kcpu.Config().Batch<<2, kcpu.High())
	for steps := 0; ; steps++ {
		_, again := m.KswapdStep(0)
		if !again {
			break
		}
		for cpu := range m.pcps {
			if !m.pcps[cpu][0].reclaimActive {
				t.Fatalf("step %d: cpu %d's list is not reclaim-active during a kswapd run", steps, cpu)
			}
		}
		if kcpu.Count() >= cap4 {
			t.Fatalf("step %d: kswapd's list holds %d pages, at most %d while reclaim is active", steps, kcpu.Count(), cap4-1)
		}
		if steps > 1000 {
			t.Fatal("kswapd never slept")
		}
	}
	for cpu := range m.pcps {
		if m.pcps[cpu][0].reclaimActive {
			t.Fatalf("cpu %d's list still reclaim-active after kswapd slept", cpu)
		}
	}
	if m.NodeFreePages(0) < n.zone.Wmark.High-cap4 {
		t.Fatalf("free %d after kswapd: below high %d by more than kswapd's list", m.NodeFreePages(0), n.zone.Wmark.High)
	}
}
