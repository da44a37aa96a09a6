package host

import (
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// fakeHost is a /proc and /sys tree copied from the sbmpsim VM (Linux
// 6.18, 2 CPUs, one node), with MemTotal set to the REFERENCE.md host's, a
// synthetic task 4242 carrying that host's measured java process, its
// vfork child 4243 (PF_FORKNOEXEC, same mm lines, oom_score 0) and a
// forked child 4244 with its own mm, and 4245, a zombie leader whose
// thread 4246 still holds an mm.
const fakeHost = "testdata/fakehost"

func TestCountCPUList(t *testing.T) {
	for in, want := range map[string]int{"0-1\n": 2, "0-3,8,10-11": 7, "": 0, "5": 1} {
		if got, err := countCPUList(in); err != nil || got != want {
			t.Errorf("countCPUList(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := countCPUList("3-1"); err == nil {
		t.Error("reversed range accepted")
	}
}

// TestSnapshotFakeHost checks the whole import against the fixture: every
// zone and every task agrees with what the kernel printed, the kernel
// thread is found from PF_KTHREAD, and a comm with spaces and parentheses
// survives /proc/PID/stat.
func TestSnapshotFakeHost(t *testing.T) {
	r, err := Snapshot(fakeHost)
	if err != nil {
		t.Fatal(err)
	}
	if r.Settings.MinFreeKbytes != 67584 || r.Settings.WatermarkScaleFactor != 10 || r.OOMTotalPages != 24684084/4 {
		t.Errorf("settings %+v, total pages %d", r.Settings, r.OOMTotalPages)
	}
	if r.ZonesMatched != len(r.Zones) || r.TasksMatched != len(r.Tasks) || len(r.Tasks) != 7 || r.TasksVfork != 1 {
		t.Fatalf("zones %d/%d, tasks %d/%d matched", r.ZonesMatched, len(r.Zones), r.TasksMatched, len(r.Tasks))
	}
	byPID := map[int64]TaskReport{}
	for _, tr := range r.Tasks {
		byPID[tr.PID] = tr
	}
	if k := byPID[2]; !k.Kthread || k.Killable {
		t.Errorf("kthreadd: %+v", k)
	}
	if j := byPID[4242]; j.Comm != "java (big) x" || j.ModelBadness != 2085593 || j.ModelOOMScore != 891 {
		t.Errorf("java: %+v", j)
	}
	// 4243 is a vfork child sharing 4242's mm; 4244 a forked child with its
	// own (slightly smaller) mm.
	if v := byPID[4243]; !v.VforkChild || v.Killable || v.ModelOOMScore != 0 {
		t.Errorf("vfork child: %+v", v)
	}
	if f := byPID[4244]; f.VforkChild || f.ModelOOMScore != 891 {
		t.Errorf("forked child: %+v", f)
	}
	// 4245's leader has exited; its other thread 4246 still holds the mm.
	if z := byPID[4245]; z.ModelOOMScore != 891 {
		t.Errorf("zombie leader with a live thread: %+v", z)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
}

// TestLiveHostWatermarks: the model's watermarks, lowmem reserves and
// pageset limits, computed from this machine's managed pages and sysctls,
// equal /proc/zoneinfo's for every zone. Managed pages can change between
// reads (memory hotplug, lazily initialised memory), so a mismatch is
// retried with a fresh read.
func TestLiveHostWatermarks(t *testing.T) {
	if _, err := os.Stat("/proc/zoneinfo"); err != nil {
		t.Skip("no /proc/zoneinfo")
	}
	var bad []ZoneReport
	var zones []ZoneReport
	for try := 0; try < 5; try++ {
		s, err := ReadSettings("/")
		if err != nil {
			t.Fatal(err)
		}
		hz, err := ReadZoneinfo("/")
		if err != nil {
			t.Fatal(err)
		}
		if zones, err = CompareZones("/", hz, s); err != nil {
			t.Fatal(err)
		}
		bad = bad[:0]
		for _, z := range zones {
			if !z.WatermarksMatch || !z.ProtectionMatch || !z.PCPMatch {
				bad = append(bad, z)
			}
		}
		if len(bad) == 0 {
			break
		}
	}
	for _, z := range bad {
		t.Errorf("node %d zone %s: kernel %+v %v %v, model %+v %v %+v", z.Node, z.Zone,
			z.Kernel, z.KernelProtection, z.KernelPCP, z.Model, z.ModelProtection, z.ModelPCP)
	}
	t.Logf("live zones: %d of %d match (watermarks, protection, pagesets)", len(zones)-len(bad), len(zones))
}

// TestLiveHostOOMScores: for every task of this machine,
// kernel.ProcOOMScore with totalpages = MemTotal + SwapTotal pages equals
// /proc/PID/oom_score.
// Sleeping children with oom_score_adj 300, 1000, 17 and (where allowed)
// -500 exercise the adj scaling, and 64 MiB of ballast in this process
// makes its RSS weigh in the score, which tells MemTotal apart from the
// sum of the zones' managed pages on machines where they differ. Tasks
// whose counters keep changing while read are left out and counted. A
// read during which the host's swap changed (another package's tests add
// and remove swap files as root while this one runs) is taken again.
func TestLiveHostOOMScores(t *testing.T) {
	if _, err := os.Stat("/proc/self/oom_score"); err != nil {
		t.Skip("no /proc/PID/oom_score")
	}
	adjs := map[int64]int64{}
	for _, adj := range []int64{300, 1000, 17, -500} {
		pid, err := startWithAdj(t, adj)
		if err != nil {
			// Lowering the adj needs CAP_SYS_RESOURCE, which a
			// container's root may lack.
			t.Logf("no child with oom_score_adj %d: %v", adj, err)
			continue
		}
		adjs[pid] = adj
	}
	ballast := make([]byte, 64<<20)
	for i := 0; i < len(ballast); i += kernel.PageSize {
		ballast[i] = 1
	}
	r, err := snapshotSteadySwap(t)
	runtime.KeepAlive(ballast)
	if err != nil {
		t.Fatal(err)
	}
	checkSelf(t, r)
	seen := 0
	for _, tr := range r.Tasks {
		switch {
		case tr.WithinCounterSlack:
			t.Logf("pid %d %s: kernel oom_score %d, model %d, within the per-CPU RSS counter slack",
				tr.PID, tr.Comm, tr.KernelOOMScore, tr.ModelOOMScore)
		case !tr.Match:
			t.Errorf("pid %d %s: kernel oom_score %d, model %d (%+v)", tr.PID, tr.Comm, tr.KernelOOMScore, tr.ModelOOMScore, tr)
		}
		if adj, ok := adjs[tr.PID]; ok && tr.OOMScoreAdj == adj {
			seen++
		}
	}
	if seen != len(adjs) {
		t.Errorf("saw %d of the %d children with a non-zero adj", seen, len(adjs))
	}
	t.Logf("live tasks: %d of %d match exactly (%d taken for vfork children), %d within the RSS counter slack, %d unstable left out, totalpages %d (MemTotal %d kB, SwapTotal %d kB)",
		r.TasksMatched, len(r.Tasks), r.TasksVfork, r.TasksWithinSlack, r.TasksUnstable, r.OOMTotalPages, r.Meminfo.MemTotalKB, r.Meminfo.SwapTotalKB)
}

// snapshotSteadySwap takes a Snapshot during which SwapTotal stayed the
// same (totalpages counts swap, so every oom_score moves with it), trying
// for up to 10 s; it skips the test when the host's swap kept changing.
func snapshotSteadySwap(t *testing.T) (Report, error) {
	t.Helper()
	for range 40 {
		r, err := Snapshot("/")
		if err != nil {
			return r, err
		}
		after, err := ReadMeminfo("/")
		if err != nil {
			return r, err
		}
		if after.SwapTotalKB == r.Meminfo.SwapTotalKB {
			return r, nil
		}
		t.Logf("SwapTotal changed from %d to %d kB during the read; reading again", r.Meminfo.SwapTotalKB, after.SwapTotalKB)
		time.Sleep(250 * time.Millisecond)
	}
	t.Skip("the host's swap changed during every read for 10 s: oom_score cannot be checked against one totalpages")
	return Report{}, nil
}

// checkSelf checks this process, whose RSS is large, and logs what the
// managed-pages alternative for totalpages would have said.
func checkSelf(t *testing.T, r Report) {
	hz, err := ReadZoneinfo("/")
	if err != nil {
		t.Fatal(err)
	}
	var managed int64
	for _, z := range hz {
		managed += z.Managed
	}
	runtime.GC()
	h, stable, err := ReadTaskStable("/", int64(os.Getpid()), 50)
	if err != nil || !stable {
		t.Logf("this process could not be read stably: %v", err)
		return
	}
	tr := compareTask(h, r.OOMTotalPages, kernel.RSSCounterSlackPages(runtime.NumCPU()))
	if !tr.Match && !tr.WithinCounterSlack {
		t.Errorf("this process: kernel oom_score %d, model %d", tr.KernelOOMScore, tr.ModelOOMScore)
	}
	self := h.ModelTask()
	t.Logf("this process: RSS %d kB, kernel oom_score %d; with totalpages = managed pages (%d) the model would say %d",
		h.VmRSSKB, h.OOMScore, managed, kernel.ProcOOMScore(&self, managed))
}

// startWithAdj starts a sleeping child, sets its oom_score_adj and stops
// it when the test ends.
func startWithAdj(t *testing.T, adj int64) (int64, error) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	pid := int64(cmd.Process.Pid)
	path := "/proc/" + strconv.FormatInt(pid, 10) + "/oom_score_adj"
	return pid, os.WriteFile(path, []byte(strconv.FormatInt(adj, 10)), 0o644)
}
