package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sbmpsim/sbmpsim/internal/slowtest"
)

// slurmSweep is the sweep the Slurm test shards: 8 runs of the OOM crisis
// on a small machine, short enough to take about a second in all, with
// and without swap, so that half of the runs end in an OOM kill.
const slurmSweep = `name = "slurm-test"
scenario = "oom-crisis"
seeds = 2
seed = 1
set = ["run.duration_ms=3000", "machine.node_memory_mb=128"]

[[axis]]
key = "kernel.swap_mb"
values = [0, 256]

[[axis]]
key = "workload.1.load_factor"
values = [0.8, 1.0]
`

// slurmMarkerEnv is set, to the test's directory, in the environment of
// every daemon and job the Slurm test starts, so that its clean-up can
// find whatever they leave behind (slurmstepd and the jobs' processes are
// in process groups of their own) and end those processes, and only those.
const slurmMarkerEnv = "SBMPSIM_SLURM_TEST"

// TestSweepOnSlurm brings up a one-node Slurm cluster (Debian's slurm-wlm
// and munge: munged, slurmctld and slurmd on loopback, with a munge key,
// a slurm.conf, sockets, state and logs in a temporary directory), runs
// the README's recipe, deploy/slurm/submit.sh, on a small sweep (a job
// array of 8 shards and a merge job that waits for them), and checks that
// the merged sweep is byte for byte what one unsharded sweep writes. It
// takes about half a minute (Slurm starts the array's tasks one scheduler
// pass at a time). Every daemon and job is stopped at the end, also when
// the test fails. It must run as root: slurmd runs jobs as their user.
func TestSweepOnSlurm(t *testing.T) {
	slowtest.Require(t, "runs a sweep as a Slurm job array")
	for _, tool := range []string{"munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "scancel"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (apt-get install slurm-wlm munge): %v", tool, err)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatal("the Slurm test starts slurmd, which runs jobs as their user: run it as root")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sbmpsim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sweepFile := filepath.Join(dir, "slurm-test.toml")
	if err := os.WriteFile(sweepFile, []byte(slurmSweep), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c := startSlurm(t)
	t.Logf("the cluster was up (node idle) in %.1fs", c.up.Sub(start).Seconds())
	submit, err := filepath.Abs(slurmSubmitFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(submit)
	cmd.Dir = c.dir
	cmd.Env = append(c.env(), "SWEEP="+sweepFile, "OUT=out", "SBMPSIM="+bin)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", slurmSubmitFile, err, exitStderr(err))
	}
	mergeJob := strings.TrimSpace(string(out))
	t.Logf("submitted; the merge is job %s", mergeJob)
	c.waitForJobs(4 * time.Minute)
	c.checkJobsCompleted()
	t.Logf("the array and the merge ran in %.1fs", time.Since(c.up).Seconds())

	ref := filepath.Join(dir, "unsharded")
	if out, err := exec.Command(bin, "sweep", sweepFile, "--workers", "2", "--out", ref).CombinedOutput(); err != nil {
		t.Fatalf("unsharded sweep: %v\n%s", err, out)
	}
	compareTrees(t, ref, filepath.Join(c.dir, "out", "all"))
}

// slurmCluster is one munged, slurmctld and slurmd, configured in dir.
type slurmCluster struct {
	t    *testing.T
	dir  string
	conf string
	up   time.Time // when the node was idle
	ds   []*daemon
}

// env is the environment for Slurm's commands and jobs: this cluster's
// slurm.conf and the marker.
func (c *slurmCluster) env() []string {
	return append(os.Environ(), "SLURM_CONF="+c.conf, slurmMarkerEnv+"="+c.dir)
}

// slurm runs one of Slurm's commands on this cluster and returns its
// standard output.
func (c *slurmCluster) slurm(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = c.env()
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, exitStderr(err))
	}
	return string(out), nil
}

// startSlurm starts munged, slurmctld and slurmd and waits until the node
// is idle. The clean-ups it registers cancel the jobs, stop the daemons
// and then end any process still carrying the marker.
func startSlurm(t *testing.T) *slurmCluster {
	t.Helper()
	c := &slurmCluster{t: t, dir: t.TempDir()}
	t.Cleanup(func() { killMarked(t, c.dir) })
	sock := filepath.Join(c.dir, "munge", "munge.socket")
	c.ds = append(c.ds, startMunged(t, c.dir, sock))

	node := hostShortName(t)
	c.conf = filepath.Join(c.dir, "slurm.conf")
	if err := os.WriteFile(c.conf, []byte(slurmConf(t, c.dir, node, sock)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"state", "spool"} {
		if err := os.Mkdir(filepath.Join(c.dir, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.ds = append(c.ds,
		startDaemon(t, c.dir, "slurmctld", c.env(), "slurmctld", "-D", "-c", "-f", c.conf),
		startDaemon(t, c.dir, "slurmd", c.env(), "slurmd", "-D", "-c", "-f", c.conf, "-N", node))
	t.Cleanup(func() {
		// Cancel what is left (a failed test), so that the jobs'
		// processes end before the daemons stop.
		if _, err := c.slurm("scancel", "--partition=test"); err != nil {
			t.Logf("%v", err)
		}
		c.waitForEmptyQueue(15 * time.Second)
	})
	c.waitIdle(60 * time.Second)
	return c
}

// startMunged writes a munge key and starts munged with its own socket,
// key, pid, log and seed files in dir/munge, and waits until it answers.
func startMunged(t *testing.T, dir, sock string) *daemon {
	t.Helper()
	mdir := filepath.Join(dir, "munge")
	if err := os.Mkdir(mdir, 0o755); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(mdir, "munge.key")
	// Readable by its owner only, as munged wants it; 1024 bytes is
	// mungekey's default size.
	keyBytes := make([]byte, 1024)
	_, _ = rand.Read(keyBytes) // never fails (crypto/rand)
	if err := os.WriteFile(key, keyBytes, 0o400); err != nil {
		t.Fatal(err)
	}
	// --force: munged otherwise refuses a socket in a directory that not
	// everyone can enter, as t.TempDir's (0700) is.
	d := startDaemon(t, dir, "munged", append(os.Environ(), slurmMarkerEnv+"="+dir), "munged", "--foreground", "--force",
		"--socket="+sock, "--key-file="+key, "--pid-file="+filepath.Join(mdir, "munged.pid"),
		"--log-file="+filepath.Join(mdir, "munged.log"), "--seed-file="+filepath.Join(mdir, "munged.seed"))
	waitFor(t, 10*time.Second, "munged to answer", []*daemon{d}, func() bool {
		return exec.Command("munge", "--socket="+sock, "--no-input", "--output=/dev/null").Run() == nil
	})
	return d
}

// slurmConf is a slurm.conf for one node, node, on loopback: free ports,
// munge on sock, state, spool, pid and log files in dir, and no cgroups
// or accounting, which a test machine (or a container) may not have.
func slurmConf(t *testing.T, dir, node, sock string) string {
	t.Helper()
	cpus, memMB := nodeResources(t)
	in := func(name string) string { return filepath.Join(dir, name) }
	return strings.Join([]string{
		"ClusterName=sbmpsimtest",
		fmt.Sprintf("SlurmctldHost=%s(127.0.0.1)", node),
		fmt.Sprintf("SlurmctldPort=%d", freePort(t)),
		fmt.Sprintf("SlurmdPort=%d", freePort(t)),
		"AuthType=auth/munge",
		"CredType=cred/munge",
		"AuthInfo=socket=" + sock,
		"SlurmUser=root",
		"SlurmdUser=root",
		"StateSaveLocation=" + in("state"),
		"SlurmdSpoolDir=" + in("spool"),
		"SlurmctldPidFile=" + in("slurmctld.pid"),
		"SlurmdPidFile=" + in("slurmd.pid"),
		"SlurmctldLogFile=" + in("slurmctld.log"),
		"SlurmdLogFile=" + in("slurmd.log"),
		// proctrack/pgid, not linuxproc: a job whose batch shell ends
		// on SIGTERM stays completing until every process of its group
		// has ended (linuxproc loses the orphaned sbmpsim).
		"ProctrackType=proctrack/pgid",
		"TaskPlugin=task/none",
		"JobAcctGatherType=jobacct_gather/none",
		"AccountingStorageType=accounting_storage/none",
		"JobCompType=jobcomp/none",
		"MpiDefault=none",
		"MailProg=/bin/true",
		"SelectType=select/cons_tres",
		"SelectTypeParameters=CR_CPU",
		"ReturnToService=2",
		// A cancelled job gets SIGKILL 5 s after SIGTERM (not 30 s): an
		// interrupted sweep finishes its runs under way before it ends.
		"KillWait=5",
		// config_overrides: the node is what this file says, even on a
		// machine smaller than the recipe's task (2 CPUs, 1 GiB).
		"SlurmdParameters=config_overrides",
		fmt.Sprintf("NodeName=%s NodeAddr=127.0.0.1 CPUs=%d RealMemory=%d State=UNKNOWN", node, cpus, memMB),
		fmt.Sprintf("PartitionName=test Nodes=%s Default=YES MaxTime=INFINITE State=UP", node),
	}, "\n") + "\n"
}

var (
	slurmdCPUs   = regexp.MustCompile(`\bCPUs=([0-9]+)`)
	slurmdMemory = regexp.MustCompile(`\bRealMemory=([0-9]+)`)
)

// nodeResources is the CPUs and memory (MiB) that slurmd finds here
// (slurmd -C), the memory less a quarter, as a node's configuration should
// be, and both at least what sweep.sbatch asks for a task.
func nodeResources(t *testing.T) (cpus, memMB int) {
	t.Helper()
	out, err := exec.Command("slurmd", "-C").Output()
	if err != nil {
		t.Fatalf("slurmd -C: %v\n%s", err, exitStderr(err))
	}
	c, m := slurmdCPUs.FindSubmatch(out), slurmdMemory.FindSubmatch(out)
	if c == nil || m == nil {
		t.Fatalf("slurmd -C printed no CPUs= or RealMemory=:\n%s", out)
	}
	cpus, _ = strconv.Atoi(string(c[1]))
	memMB, _ = strconv.Atoi(string(m[1]))
	return max(cpus, 2), max(memMB-memMB/4, 1024)
}

// freePort is a TCP port on loopback that nothing listens on just now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// hostShortName is this host's name up to the first dot, which slurmctld
// expects to find in SlurmctldHost.
func hostShortName(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitN(h, ".", 2)[0]
}

// exitStderr is the standard error that exec.Cmd.Output kept in err.
func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// daemon is a process started in a process group of its own, with its
// standard output and error in dir/NAME.out.
type daemon struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has been waited for
}

// startDaemon starts argv as a daemon in the foreground and registers its
// stop as a clean-up.
func startDaemon(t *testing.T, dir, name string, env []string, argv ...string) *daemon {
	t.Helper()
	d := &daemon{name: name, log: filepath.Join(dir, name+".out"), done: make(chan struct{})}
	f, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Env, d.cmd.Stdout, d.cmd.Stderr = env, f, f
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		_ = d.cmd.Wait()
		f.Close()
		close(d.done)
	}()
	t.Cleanup(d.stop)
	return d
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the daemon's process group, and SIGKILL if it has
// not ended 15 s later.
func (d *daemon) stop() {
	if d.exited() {
		return
	}
	pgid := d.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-d.done
	}
}

// waitFor polls cond until it holds; it fails the test, with the
// daemons' logs, if a daemon ends or timeout passes first.
func waitFor(t *testing.T, timeout time.Duration, what string, ds []*daemon, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		for _, d := range ds {
			if d.exited() {
				dumpLogs(t, filepath.Dir(d.log))
				t.Fatalf("waiting for %s: %s ended: %v", what, d.name, d.cmd.ProcessState)
			}
		}
		if time.Now().After(deadline) {
			dumpLogs(t, filepath.Dir(ds[0].log))
			t.Fatalf("waiting for %s: not after %v", what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dumpLogs logs the end of every log file in dir: the daemons' and the
// jobs' (slurm-*.out).
func dumpLogs(t *testing.T, dir string) {
	t.Helper()
	var names []string
	for _, pat := range []string{"*.out", "*.log", "munge/*.log"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		names = append(names, m...)
	}
	for _, name := range names {
		data, _ := os.ReadFile(name)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		t.Logf("--- %s (last 25 lines):\n%s", name, strings.Join(lines[max(0, len(lines)-25):], "\n"))
	}
}

// waitIdle waits until sinfo shows the node idle.
func (c *slurmCluster) waitIdle(timeout time.Duration) {
	c.t.Helper()
	waitFor(c.t, timeout, "the node to be idle", c.ds, func() bool {
		out, err := c.slurm("sinfo", "--noheader", "--Node", "--format=%t")
		return err == nil && strings.TrimSpace(out) == "idle"
	})
	c.up = time.Now()
}

// waitForJobs waits until the queue is empty; a job held because one it
// depends on failed fails the test at once.
func (c *slurmCluster) waitForJobs(timeout time.Duration) {
	c.t.Helper()
	waitFor(c.t, timeout, "the jobs to finish", c.ds, func() bool {
		out, err := c.slurm("squeue", "--noheader", "--format=%i %T %r")
		if err != nil {
			return false
		}
		if strings.Contains(out, "DependencyNeverSatisfied") {
			dumpLogs(c.t, c.dir)
			c.t.Fatalf("a task of the array failed; the merge will never run:\n%s", out)
		}
		return strings.TrimSpace(out) == ""
	})
}

// waitForEmptyQueue is waitForJobs for the clean-up: it only logs.
func (c *slurmCluster) waitForEmptyQueue(timeout time.Duration) {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if out, err := c.slurm("squeue", "--noheader"); err == nil && strings.TrimSpace(out) == "" {
			return
		}
	}
	c.t.Logf("jobs still queued %v after scancel", timeout)
}

var jobStateField = regexp.MustCompile(`^JobId=([0-9]+) .*\bJobState=([A-Z_]+)`)

// checkJobsCompleted checks that slurmctld knows 9 jobs, the array's 8
// tasks and the merge, and that all of them completed.
func (c *slurmCluster) checkJobsCompleted() {
	c.t.Helper()
	out, err := c.slurm("scontrol", "--oneliner", "show", "job")
	if err != nil {
		c.t.Fatal(err)
	}
	var states []string
	completed := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		m := jobStateField.FindStringSubmatch(line)
		if m == nil {
			c.t.Fatalf("scontrol show job: no JobId or JobState in %q", line)
		}
		states = append(states, m[1]+"="+m[2])
		if m[2] == "COMPLETED" {
			completed++
		}
	}
	if len(states) != 9 || completed != 9 {
		dumpLogs(c.t, c.dir)
		c.t.Fatalf("jobs %s; want 9 COMPLETED: the array's 8 tasks and the merge", strings.Join(states, " "))
	}
}

// killMarked ends, with SIGKILL, every process whose environment has the
// marker of the test that uses dir: what the daemons' orderly stop left
// running, which is an error (it would outlive the test).
func killMarked(t *testing.T, dir string) {
	t.Helper()
	marker := []byte(slurmMarkerEnv + "=" + dir + "\x00")
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var left []string
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join(p, "environ"))
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(p, "comm"))
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			left = append(left, fmt.Sprintf("%d %s", pid, strings.TrimSpace(string(comm))))
		}
	}
	if len(left) > 0 {
		t.Errorf("left running after the daemons stopped, killed: %s", strings.Join(left, ", "))
	}
}

// compareTrees checks that the files under got are those under want, byte
// for byte (timing.json, wall-clock figures, aside), and that they hold a
// whole sweep.
func compareTrees(t *testing.T, want, got string) {
	t.Helper()
	w, g := readTree(t, want), readTree(t, got)
	if _, ok := w["sweep.json"]; !ok || len(w) < 4 {
		t.Fatalf("%s holds no whole sweep: %d files", want, len(w))
	}
	var names []string
	for name := range w {
		names = append(names, name)
	}
	for name := range g {
		if _, ok := w[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	same := 0
	for _, name := range names {
		wb, inW := w[name]
		gb, inG := g[name]
		switch {
		case !inG:
			t.Errorf("%s: missing from the merged sweep", name)
		case !inW:
			t.Errorf("%s: in the merged sweep, not in the unsharded one", name)
		case !bytes.Equal(wb, gb):
			t.Errorf("%s differs: unsharded %d bytes, merged %d bytes", name, len(wb), len(gb))
		default:
			same++
		}
	}
	t.Logf("%d of %d files byte-identical (%s vs %s)", same, len(names), want, got)
}

// readTree maps the path (relative to root) of every regular file under
// root but timing.json to its content.
func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || e.Name() == "timing.json" {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		files[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
