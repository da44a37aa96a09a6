package kernel

// The scenario scripts' commands for migratetypes, compaction,
// transparent huge pages, mappings and kernel pages:
//
//	map pid=N pages=N [node=N] [huge=1] [defrag=MODE] [madvise=1] [times=N]
//	    MapAnon times times (THP faults with huge=1 under defrag MODE,
//	    always|defer|defer+madvise|madvise|never, default madvise);
//	    prints the first and last id and the totals.
//	unmap pid=N ids=A..B [step=N]
//	    UnmapAnon of ids A, A+step, ... up to B.
//	mapping pid=N id=N          a mapping's resident, swapped and whole huge pages
//	kalloc name=S order=N [gfp=kernel|atomic|nowait|user] [node=N] [cpu=N]
//	       [flags=noretry,retrymayfail,account,high,thisnode,noreclaim]
//	       [cgroup=P] [times=N]
//	    Alloc times times (stopping at an OOM kill); the blocks got are
//	    kept under name S.
//	kfree name=S [step=N]       FreeKernel of the name's blocks (every step-th)
//	kcompactd [node=N]          KcompactdStep, if kcompactd was woken
//	proactive [node=N] [times=N]
//	    ProactiveCompactStep times times (500 ms apart)
//	frag [node=N] [order=N]     free pages by order, the fragmentation index
//	                            and score, and the zone's deferral state
//	pagetypeinfo [node=N]       free blocks by order and type, pageblocks by type
//	wanted                      which nodes' kswapd and kcompactd are woken

import (
	"fmt"
	"strings"

	"github.com/sbmpsim/sbmpsim/internal/scripttest"
)

// kernelBlock is one block kalloc got.
type kernelBlock struct {
	pfn   int64
	order int
}

func (r *scriptRunner) compactHandlers(h map[string]func(*scripttest.Args) (string, error)) {
	h["map"], h["unmap"], h["mapping"] = r.mapCmd, r.unmapCmd, r.mappingCmd
	h["kalloc"], h["kfree"] = r.kalloc, r.kfree
	h["kcompactd"], h["proactive"], h["frag"], h["pagetypeinfo"], h["wanted"] = r.kcompactd, r.proactive, r.frag, r.pagetypeinfo, r.wanted
}

func parseDefrag(s string) (THPDefrag, error) {
	for d := THPDefragAlways; d <= THPDefragNever; d++ {
		if d.String() == s {
			return d, nil
		}
	}
	return 0, fmt.Errorf("no defrag mode %q", s)
}

func (r *scriptRunner) mapCmd(a *scripttest.Args) (string, error) {
	v, err := ints(a, "pid", -1, "pages", -1, "node", 0, "huge", 0, "madvise", 0, "times", 1)
	if err != nil {
		return "", err
	}
	ds, err := a.String("defrag", "madvise")
	if err != nil {
		return "", err
	}
	defrag, err := parseDefrag(ds)
	if err != nil {
		return "", err
	}
	opts := MapOptions{Huge: v[3] != 0, Defrag: defrag, Madvised: v[4] != 0}
	var ok, huge, base, stall int64
	first, last := MappingID(-1), MappingID(-1)
	var oom *OOMEvent
	for range v[5] {
		res, err := r.m.MapAnon(v[0], int(v[2]), v[1], opts)
		if err != nil {
			return "", err
		}
		huge += res.HugePages
		base += res.BasePages
		stall += res.StallNs
		if res.OK {
			ok++
			if first < 0 {
				first = res.ID
			}
			last = res.ID
		}
		if oom = res.OOM; oom != nil || !res.OK {
			break
		}
	}
	return fmt.Sprintf("mapped %d (ids %d..%d) huge %d base %d stall %.3f ms\n", ok, first, last, huge, base, float64(stall)/1e6) + oomLine(oom), nil
}

func (r *scriptRunner) unmapCmd(a *scripttest.Args) (string, error) {
	v, err := ints(a, "pid", -1, "step", 1)
	if err != nil {
		return "", err
	}
	s, err := a.String("ids")
	if err != nil {
		return "", err
	}
	var lo, hi int64
	if _, err := fmt.Sscanf(strings.Replace(s, "..", " ", 1), "%d %d", &lo, &hi); err != nil {
		return "", fmt.Errorf("ids=%s: %w", s, err)
	}
	n := 0
	for id := lo; id <= hi; id += v[1] {
		if err := r.m.UnmapAnon(v[0], MappingID(id)); err != nil {
			return "", err
		}
		n++
	}
	return fmt.Sprintf("unmapped %d\n", n), nil
}

func (r *scriptRunner) mappingCmd(a *scripttest.Args) (string, error) {
	v, err := ints(a, "pid", -1, "id", -1)
	if err != nil {
		return "", err
	}
	res, sw, huge, err := r.m.MappingPages(v[0], MappingID(v[1]))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("resident %d swapped %d whole huge pages %d\n", res, sw, huge), nil
}

// gfpFlags parses kalloc's flags=.
func gfpFlags(s string) (GFPFlags, bool, error) {
	var f GFPFlags
	noReclaim := false
	names := map[string]GFPFlags{"noretry": GFPNoRetry, "retrymayfail": GFPRetryMayFail, "account": GFPAccount,
		"high": GFPHigh, "thisnode": GFPThisNode}
	for _, w := range strings.Split(s, ",") {
		switch b, ok := names[w]; {
		case w == "":
		case w == "noreclaim":
			noReclaim = true
		case ok:
			f |= b
		default:
			return 0, false, fmt.Errorf("no gfp flag %q", w)
		}
	}
	return f, noReclaim, nil
}

func (r *scriptRunner) kalloc(a *scripttest.Args) (string, error) {
	v, err := ints(a, "order", -1, "node", 0, "times", 1)
	if err != nil {
		return "", err
	}
	cpu, err := a.Int("cpu", -1)
	if err != nil {
		return "", err
	}
	name, err := a.String("name")
	if err != nil {
		return "", err
	}
	gs, _ := a.String("gfp", "kernel")
	gfp := map[string]GFP{"kernel": GFPKernel, "atomic": GFPAtomic, "nowait": GFPNowait, "user": GFPUser}
	g, ok := gfp[gs]
	if !ok {
		return "", fmt.Errorf("no gfp %q", gs)
	}
	fs, _ := a.String("flags", "")
	flags, noReclaim, err := gfpFlags(fs)
	if err != nil {
		return "", err
	}
	cg, _ := a.String("cgroup", "")
	req := AllocRequest{Node: int(v[1]), Order: int(v[0]), GFP: g, Flags: flags, CPU: int(cpu), NoReclaim: noReclaim, Cgroup: cg}
	var got, stall int64
	var oom *OOMEvent
	var last AllocResult
	for range v[2] {
		res, err := r.m.Alloc(req)
		if err != nil {
			return "", err
		}
		stall += res.StallNs
		if oom = res.OOM; oom != nil {
			break
		}
		if !res.OK {
			continue
		}
		last = res
		got++
		r.kernel[name] = append(r.kernel[name], kernelBlock{res.PFN, req.Order})
	}
	out := fmt.Sprintf("got %d of %d stall %.3f ms\n", got, v[2], float64(stall)/1e6)
	if got == 1 && v[2] == 1 {
		out = fmt.Sprintf("got pfn %d node %d stall %.3f ms\n", last.PFN, last.Node, float64(stall)/1e6)
	}
	return out + oomLine(oom), nil
}

func (r *scriptRunner) kfree(a *scripttest.Args) (string, error) {
	name, err := a.String("name")
	if err != nil {
		return "", err
	}
	step, err := a.Int("step", 1)
	if err != nil {
		return "", err
	}
	var kept []kernelBlock
	for i, b := range r.kernel[name] {
		if int64(i)%step != 0 {
			kept = append(kept, b)
			continue
		}
		if err := r.m.FreeKernel(b.pfn, b.order); err != nil {
			return "", err
		}
	}
	r.kernel[name] = kept
	return "", nil
}

func (r *scriptRunner) kcompactd(a *scripttest.Args) (string, error) {
	ni, err := a.Int("node", 0)
	if err != nil {
		return "", err
	}
	if !r.m.KcompactdWanted(int(ni)) {
		return "asleep\n", nil
	}
	cost, _ := r.m.KcompactdStep(int(ni))
	return fmt.Sprintf("cost %.3f ms\n", float64(cost)/1e6), nil
}

func (r *scriptRunner) proactive(a *scripttest.Args) (string, error) {
	v, err := ints(a, "node", 0, "times", 1)
	if err != nil {
		return "", err
	}
	var runs, cost int64
	for range v[1] {
		c := r.m.ProactiveCompactStep(int(v[0]))
		if c > 0 {
			runs++
		}
		cost += c
	}
	return fmt.Sprintf("compacted %d times cost %.3f ms score %d\n", runs, float64(cost)/1e6, r.m.FragmentationScore(int(v[0]))), nil
}

func (r *scriptRunner) frag(a *scripttest.Args) (string, error) {
	v, err := ints(a, "node", 0, "order", HugePageOrder)
	if err != nil {
		return "", err
	}
	n := r.m.nodes[v[0]]
	nr := n.buddy.nrFreeArray()
	d := n.compact.deferral
	return fmt.Sprintf("free %d nr_free %v\nfragmentation_index(%d) %d extfrag %d score %d\ndefer_shift %d considered %d order_failed %d\n",
		n.buddy.FreePages(), *nr, v[1], FragmentationIndex(nr, int(v[1])), ExtfragForOrder(nr, int(v[1])),
		r.m.FragmentationScore(int(v[0])), d.DeferShift, d.Considered, d.OrderFailed), nil
}

func (r *scriptRunner) pagetypeinfo(a *scripttest.Args) (string, error) {
	ni, err := a.Int("node", 0)
	if err != nil {
		return "", err
	}
	info := r.m.PagetypeInfo(int(ni))
	var s strings.Builder
	for mt := range NrMigratetypes {
		fmt.Fprintf(&s, "%-11s", mt)
		for o := range NrOrders {
			fmt.Fprintf(&s, " %d", info.FreeBlocks[mt][o])
		}
		s.WriteString("\n")
	}
	c := info.Pageblocks
	fmt.Fprintf(&s, "pageblocks unmovable %d movable %d reclaimable %d highatomic %d\n", c[0], c[1], c[2], c[3])
	return s.String(), nil
}

func (r *scriptRunner) wanted(*scripttest.Args) (string, error) {
	var s strings.Builder
	for ni := range r.m.nodes {
		fmt.Fprintf(&s, "node %d kswapd %v kcompactd %v\n", ni, r.m.KswapdWanted(ni), r.m.KcompactdWanted(ni))
	}
	return s.String(), nil
}
