package kernel

// Scenario scripts of Linux behaviour, one scenario per file in
// testdata/scripts (see internal/scripttest for the format).
// `go test ./model/kernel -run Script -rewrite` regenerates the outputs;
// commit only diffs you understand. Commands (unknown arguments are
// errors):
//
//	machine pages=N [nodes=N] [swap=N] [swappiness=N] [extfrag=N]
//	        [proactiveness=N] [cpus=N] [cluster=N] [clock=1] [v1=1]
//	    a machine of nodes nodes of pages 4 KiB pages each (zonelists in
//	    node order from the local node), swap pages of swap, the
//	    compaction sysctls given (else Linux's defaults), cpus CPUs
//	    per node with per-CPU lists (none by default),
//	    vm.page-cluster cluster (default 3), and with clock=1 a clock
//	    that starts at 0 (swap writes take time; see advance), and with
//	    v1=1 cgroup v1's memsw accounting of swap.
//	advance us=N                        move the clock N microseconds on
//	cgroup path=P [max=N] [high=N] [swapmax=N]
//	    a cgroup, limits in pages
//	task pid=N [cgroup=P] [cpu=N]       a task, optionally placed
//	file name=S pages=N                 a file (AddFile)
//	read pid=N file=S pages=A..B [node=N] [times=N]
//	    ReadFile of pages A to B in order, times times; prints the
//	    hits, misses, refaults, activations, restores and stall.
//	anon pid=N pages=N [node=N]         AllocAnon
//	touch pid=N pages=N                 TouchAnon
//	free pid=N pages=N                  FreeAnon
//	reclaim [node=N] pages=N [cgroup=P]
//	    one do_try_to_free_pages run for pages pages: global direct
//	    reclaim of the node's zonelist, or memcg reclaim of cgroup P.
//	kswapd [node=N]                     KswapdStep until it sleeps
//	lru [node=N] [cgroup=P]             the lruvec's list sizes
//	page file=S index=N | page pid=N slot=N [map=N]
//	    where the page is: list and flags, or swapped with its shadow
//	vmstat [NAME...]                    /proc/vmstat lines, all non-zero or the named
//	memstat cgroup=P [NAME...]          memory.stat lines, all non-zero or the named
//	cgfile cgroup=P file=NAME           a memory controller file (CgroupFile)
//	mm pid=N                            the task's resident and swapped pages
//	swap                                swap slots in use, swap-cache pages,
//	                                    and whether vm_swap_full holds
//	check                               CheckInvariants
//
// and the compaction commands of script_compact_test.go.

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/internal/scripttest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of testdata/scripts/*.txt")

func TestScript(t *testing.T) {
	scripttest.RunDir(t, "testdata/scripts/*.txt", *rewrite, func() scripttest.Runner {
		r := &scriptRunner{files: map[string]FileID{}, kernel: map[string][]kernelBlock{}}
		return r.run
	})
}

// scriptRunner holds one script's machine and its named files.
type scriptRunner struct {
	m *Machine
	// now is the machine's clock, for a machine made with clock=1.
	now   int64
	files map[string]FileID
	// kernel holds the blocks kalloc got, by name.
	kernel map[string][]kernelBlock
}

func (r *scriptRunner) run(line string) string {
	fields := strings.Fields(line)
	args := scripttest.ParseArgs(fields[1:])
	out, err := r.dispatch(fields[0], args)
	if err == nil {
		err = args.Unused()
	}
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return out
}

func (r *scriptRunner) dispatch(cmd string, a *scripttest.Args) (string, error) {
	if cmd == "machine" {
		return r.machine(a)
	}
	if r.m == nil {
		return "", fmt.Errorf("%s before machine", cmd)
	}
	handlers := map[string]func(*scripttest.Args) (string, error){
		"cgroup": r.cgroup, "task": r.task, "file": r.file, "read": r.read,
		"anon": r.anon, "touch": r.touch, "free": r.free, "reclaim": r.reclaim,
		"kswapd": r.kswapd, "lru": r.lru, "page": r.page, "vmstat": r.vmstatCmd,
		"memstat": r.memstat, "check": r.check, "mm": r.mm, "swap": r.swapCmd,
		"cgfile": r.cgfile, "advance": r.advance,
	}
	r.compactHandlers(handlers)
	h, ok := handlers[cmd]
	if !ok {
		return "", fmt.Errorf("unknown command %q", cmd)
	}
	return h(a)
}

// ints reads several integer arguments with defaults (-1: required).
func ints(a *scripttest.Args, spec ...any) ([]int64, error) {
	var out []int64
	for i := 0; i < len(spec); i += 2 {
		key, def := spec[i].(string), spec[i+1].(int)
		var v int64
		var err error
		if def < 0 {
			v, err = a.Int(key)
		} else {
			v, err = a.Int(key, int64(def))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (r *scriptRunner) machine(a *scripttest.Args) (string, error) {
	v, err := ints(a, "pages", -1, "nodes", 1, "swap", 0, "swappiness", 60, "extfrag", 500, "proactiveness", 20, "cpus", 0, "cluster", defaultPageCluster, "clock", 0, "v1", 0)
	if err != nil {
		return "", err
	}
	sys := DefaultCompactionSysctls()
	sys.ExtfragThreshold, sys.Proactiveness = int(v[4]), int(v[5])
	cluster := int(v[7])
	cfg := MachineConfig{Swappiness: int(v[3]), SwapPages: v[2], Compaction: &sys, PageCluster: &cluster}
	if v[8] != 0 {
		cfg.Clock = func() int64 { return r.now }
	}
	cfg.CgroupV1 = v[9] != 0
	for n := range int(v[1]) {
		for range v[6] {
			cfg.CPUNodes = append(cfg.CPUNodes, n)
		}
		cfg.NodePages = append(cfg.NodePages, v[0])
		var zl []int
		for k := range int(v[1]) {
			zl = append(zl, (n+k)%int(v[1]))
		}
		cfg.Zonelists = append(cfg.Zonelists, zl)
	}
	if r.m, err = NewMachine(cfg); err != nil {
		return "", err
	}
	var b strings.Builder
	for n := range r.m.nodes {
		z := r.m.Zone(n)
		fmt.Fprintf(&b, "node %d: %d pages, watermarks min %d low %d high %d\n", n, z.ManagedPages, z.Wmark.Min, z.Wmark.Low, z.Wmark.High)
	}
	return b.String(), nil
}

func (r *scriptRunner) advance(a *scripttest.Args) (string, error) {
	us, err := a.Int("us")
	if err != nil || us < 0 {
		return "", fmt.Errorf("advance wants us=N >= 0 (%v)", err)
	}
	r.now += us * 1000
	r.m.EndWriteback()
	return "", nil
}

func (r *scriptRunner) cgroup(a *scripttest.Args) (string, error) {
	path, err := a.String("path")
	if err != nil {
		return "", err
	}
	v, err := ints(a, "max", 0, "high", 0, "swapmax", 0)
	if err != nil {
		return "", err
	}
	return "", r.m.AddCgroup(path, CgroupLimits{MaxPages: v[0], HighPages: v[1], SwapMaxPages: v[2]})
}

func (r *scriptRunner) task(a *scripttest.Args) (string, error) {
	pid, err := a.Int("pid")
	if err != nil {
		return "", err
	}
	cg, err := a.String("cgroup", "/")
	if err != nil {
		return "", err
	}
	if err := r.m.AddTask(Task{PID: pid, Comm: fmt.Sprint("t", pid), Cgroup: cg}); err != nil {
		return "", err
	}
	if a.Has("cpu") {
		cpu, err := a.Int("cpu")
		if err != nil {
			return "", err
		}
		return "", r.m.PlaceTask(pid, int(cpu))
	}
	return "", nil
}

func (r *scriptRunner) file(a *scripttest.Args) (string, error) {
	name, err := a.String("name")
	if err != nil {
		return "", err
	}
	pages, err := a.Int("pages")
	if err != nil {
		return "", err
	}
	f, err := r.m.AddFile(pages)
	if err != nil {
		return "", err
	}
	r.files[name] = f
	return "", nil
}

// fileArg returns the named file of argument key.
func (r *scriptRunner) fileArg(a *scripttest.Args) (FileID, error) {
	name, err := a.String("file")
	if err != nil {
		return 0, err
	}
	f, ok := r.files[name]
	if !ok {
		return 0, fmt.Errorf("no file %q", name)
	}
	return f, nil
}

// pageRange parses pages=A..B (or pages=A).
func pageRange(a *scripttest.Args) (lo, hi int64, err error) {
	s, err := a.String("pages")
	if err != nil {
		return 0, 0, err
	}
	l, h, ok := strings.Cut(s, "..")
	if !ok {
		h = l
	}
	if _, err := fmt.Sscan(l, &lo); err != nil {
		return 0, 0, fmt.Errorf("pages=%s: %w", s, err)
	}
	if _, err := fmt.Sscan(h, &hi); err != nil {
		return 0, 0, fmt.Errorf("pages=%s: %w", s, err)
	}
	return lo, hi, nil
}

func (r *scriptRunner) read(a *scripttest.Args) (string, error) {
	f, err := r.fileArg(a)
	if err != nil {
		return "", err
	}
	lo, hi, err := pageRange(a)
	if err != nil {
		return "", err
	}
	v, err := ints(a, "pid", -1, "node", 0, "times", 1)
	if err != nil {
		return "", err
	}
	var hits, misses, refaults, activated, restored, stall int64
	var oom *OOMEvent
	for range v[2] {
		for i := lo; i <= hi && oom == nil; i++ {
			res, err := r.m.ReadFile(v[0], f, i, int(v[1]))
			if err != nil {
				return "", err
			}
			hits += b2i(res.Hit)
			misses += b2i(!res.Hit)
			refaults += b2i(res.Refault)
			activated += b2i(res.Activated)
			restored += b2i(res.Restored)
			stall += res.StallNs
			oom = res.OOM
		}
	}
	out := fmt.Sprintf("hits %d misses %d refaults %d activated %d restored %d stall %.3f ms\n", hits, misses, refaults, activated, restored, float64(stall)/1e6)
	return out + oomLine(oom), nil
}

func oomLine(oom *OOMEvent) string {
	if oom == nil {
		return ""
	}
	return fmt.Sprintf("oom: %s killed %d (%s), %s\n", oom.Scope, oom.VictimPID, oom.VictimComm, oom.Reason)
}

func (r *scriptRunner) anon(a *scripttest.Args) (string, error) {
	v, err := ints(a, "pid", -1, "pages", -1, "node", 0)
	if err != nil {
		return "", err
	}
	got, stall, oom, err := r.m.AllocAnon(v[0], int(v[2]), v[1])
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("got %d stall %.3f ms\n", got, float64(stall)/1e6) + oomLine(oom), nil
}

func (r *scriptRunner) touch(a *scripttest.Args) (string, error) {
	v, err := ints(a, "pid", -1, "pages", -1)
	if err != nil {
		return "", err
	}
	t, err := r.m.TouchAnon(v[0], v[1])
	if err != nil {
		return "", err
	}
	ra := ""
	if t.ReadAhead != 0 || t.ReadaheadHits != 0 {
		ra = fmt.Sprintf(" read_ahead %d ra_hits %d", t.ReadAhead, t.ReadaheadHits)
	}
	return fmt.Sprintf("touched %d swapped_in %d%s refaults %d activated %d restored %d stall %.3f ms\n",
		t.Touched, t.SwappedIn, ra, t.Refaults, t.Activated, t.Restored, float64(t.StallNs)/1e6) + oomLine(t.OOM), nil
}

func (r *scriptRunner) free(a *scripttest.Args) (string, error) {
	v, err := ints(a, "pid", -1, "pages", -1)
	if err != nil {
		return "", err
	}
	return "", r.m.FreeAnon(v[0], v[1])
}

func (r *scriptRunner) reclaim(a *scripttest.Args) (string, error) {
	v, err := ints(a, "node", 0, "pages", -1)
	if err != nil {
		return "", err
	}
	sc := scanControl{target: v[1], movable: true}
	nodes := r.m.cfg.Zonelists[v[0]]
	if a.Has("cgroup") {
		path, _ := a.String("cgroup")
		cg, ok := r.m.cgIndex[path]
		if !ok {
			return "", fmt.Errorf("no cgroup %s", path)
		}
		sc.root, sc.cgroupReclaim, nodes = cg, true, r.m.nodeOrder
	}
	r.m.doTryToFreePages(nodes, &sc)
	return fmt.Sprintf("reclaimed %d scanned %d cost %.3f ms\n", sc.res.reclaimed, sc.res.scanned, float64(sc.res.costNs)/1e6), nil
}

func (r *scriptRunner) kswapd(a *scripttest.Args) (string, error) {
	ni, err := a.Int("node", 0)
	if err != nil {
		return "", err
	}
	var steps, cost int64
	for again := true; again; steps++ {
		var c int64
		c, again = r.m.KswapdStep(int(ni))
		cost += c
		if steps > 1<<20 {
			return "", fmt.Errorf("kswapd did not sleep")
		}
	}
	return fmt.Sprintf("steps %d cost %.3f ms free %d\n", steps, float64(cost)/1e6, r.m.NodeFreePages(int(ni))), nil
}

func (r *scriptRunner) lru(a *scripttest.Args) (string, error) {
	ni, err := a.Int("node", 0)
	if err != nil {
		return "", err
	}
	path, err := a.String("cgroup", "/")
	if err != nil {
		return "", err
	}
	cg, ok := r.m.cgIndex[path]
	if !ok {
		return "", fmt.Errorf("no cgroup %s", path)
	}
	v := &r.m.nodes[ni].lru[cg]
	h := v.hier
	return fmt.Sprintf("inactive_anon %d active_anon %d inactive_file %d active_file %d nonresident_age %d\n",
		h[InactiveAnon], h[ActiveAnon], h[InactiveFile], h[ActiveFile], v.nonresidentAge), nil
}

func (r *scriptRunner) page(a *scripttest.Args) (string, error) {
	var sl pageSlot
	if a.Has("file") {
		f, err := r.fileArg(a)
		if err != nil {
			return "", err
		}
		idx, err := a.Int("index")
		if err != nil {
			return "", err
		}
		sl = r.m.files[f].slots[idx]
	} else {
		v, err := ints(a, "pid", -1, "slot", -1, "map", 0)
		if err != nil {
			return "", err
		}
		sl = r.m.tasks[r.m.slot[v[0]]].anon.vmas[v[2]].slots[v[1]]
	}
	if sl.pfn < 0 {
		if !sl.sh.valid {
			return "not resident, no shadow\n", nil
		}
		where := ""
		if sl.swp != 0 {
			where = fmt.Sprintf(" in swap slot %d", sl.swp)
		}
		return fmt.Sprintf("not resident%s, shadow: node %d cgroup %s eviction %d workingset %v\n",
			where, sl.sh.node, r.m.cgPaths[sl.sh.cg], sl.sh.eviction, sl.sh.workingset), nil
	}
	cache := ""
	if sl.swp != 0 {
		cache = fmt.Sprintf(", swap cache slot %d", sl.swp)
		if sl.swf&swfDirty != 0 {
			cache += " dirty"
		}
		if sl.swf&swfReadahead != 0 {
			cache += " readahead"
		}
		if sl.swf&swfOut != 0 {
			cache += " swapped-out"
		}
		if sl.swf&swfWriteback != 0 {
			cache += " writeback"
		}
	}
	ni, n := r.m.nodeOf(sl.pfn)
	p := n.page(sl.pfn)
	names := []string{"inactive_anon", "active_anon", "inactive_file", "active_file"}
	var flags []string
	for _, f := range []struct {
		bit  pageFlags
		name string
	}{{pgReferenced, "referenced"}, {pgActive, "active"}, {pgWorkingset, "workingset"}, {pgYoung, "young"}} {
		if p.flags&f.bit != 0 {
			flags = append(flags, f.name)
		}
	}
	return fmt.Sprintf("node %d %s [%s]%s\n", ni, names[lruIndex(p.kind, p.flags)], strings.Join(flags, " "), cache), nil
}

func (r *scriptRunner) swapCmd(*scripttest.Args) (string, error) {
	return fmt.Sprintf("used %d cached %d vm_swap_full %v\n", r.m.SwapUsed(), r.m.SwapCachedPages(), r.m.vmSwapFull()), nil
}

func (r *scriptRunner) vmstatCmd(a *scripttest.Args) (string, error) {
	words := a.Words()
	vs := r.m.VMStat()
	var b strings.Builder
	for ev := range NrVMEvents {
		if len(words) == 0 && vs[ev] != 0 || slices.Contains(words, ev.String()) {
			fmt.Fprintf(&b, "%s %d\n", ev, vs[ev])
		}
	}
	return b.String(), nil
}

func (r *scriptRunner) memstat(a *scripttest.Args) (string, error) {
	path, err := a.String("cgroup")
	if err != nil {
		return "", err
	}
	words := a.Words()
	text, err := r.m.CgroupFile(path, "memory.stat")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		name, val, _ := strings.Cut(l, " ")
		if len(words) == 0 && val != "0" || slices.Contains(words, name) {
			b.WriteString(l + "\n")
		}
	}
	return b.String(), nil
}

func (r *scriptRunner) cgfile(a *scripttest.Args) (string, error) {
	path, err := a.String("cgroup")
	if err != nil {
		return "", err
	}
	name, err := a.String("file")
	if err != nil {
		return "", err
	}
	return r.m.CgroupFile(path, name)
}

func (r *scriptRunner) check(*scripttest.Args) (string, error) {
	if err := r.m.CheckInvariants(); err != nil {
		return "", err
	}
	return "ok\n", nil
}

func (r *scriptRunner) mm(a *scripttest.Args) (string, error) {
	pid, err := a.Int("pid")
	if err != nil {
		return "", err
	}
	t, ok := r.m.Task(pid)
	if !ok {
		return "", fmt.Errorf("no task %d", pid)
	}
	ts := &r.m.tasks[r.m.slot[pid]]
	var active, inactive int64
	for _, v := range ts.anon.vmas {
		for _, sl := range v.slots {
			if sl.pfn >= 0 {
				_, n := r.m.nodeOf(sl.pfn)
				if n.page(sl.pfn).flags&pgActive != 0 {
					active++
				} else {
					inactive++
				}
			}
		}
	}
	return fmt.Sprintf("rss %d (active %d inactive %d) swap %d\n", t.RSSAnonPages, active, inactive, t.SwapEntries), nil
}
