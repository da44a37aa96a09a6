package real

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// Options shape a real run. Zero fields take the defaults.
type Options struct {
	// Samplers builds synthetic workloads' samplers as the simulation
	// does; without it, synthetic workloads are refused. The workers
	// must be given the same builder (WorkerMain).
	Samplers SamplerFunc
	// CgroupRoot is the cgroup hierarchy to create the run's groups in
	// ("": the host's memory controller, found as Probe finds it).
	CgroupRoot string
	// TempDir is where the run keeps its files and swap file ("":
	// os.TempDir()). It must be on disk, not tmpfs.
	TempDir string
	// Executable is the binary workers run as ("": os.Executable()). It
	// must call WorkerMain when IsWorker.
	Executable string
	// SampleInterval is how often the kernel is sampled (default 50 ms).
	SampleInterval time.Duration
	// SetupTimeout bounds the set-up: starting the processes and
	// writing their files (default 2 minutes).
	SetupTimeout time.Duration
	// Grace is how long the processes get to report and exit after the
	// end before they are killed (default 2 s).
	Grace time.Duration
	// MaxDurationMs is the longest run.duration_ms accepted (default
	// DefaultMaxDuration).
	MaxDurationMs int64
	// Log receives a line per step of the run (nil: none).
	Log io.Writer
	// IgnoreKernelLog leaves the kernel log unread: OOM events are then
	// known only from the cgroups' counters and the samples (see
	// OOMEvent.Source), as on a host whose log the run cannot read.
	IgnoreKernelLog bool
}

func (o *Options) sampleInterval() time.Duration {
	return orDefault(o.SampleInterval, 50*time.Millisecond)
}
func (o *Options) setupTimeout() time.Duration { return orDefault(o.SetupTimeout, 2*time.Minute) }
func (o *Options) grace() time.Duration        { return orDefault(o.Grace, 2*time.Second) }
func (o *Options) maxDurationMs() int64 {
	if o.MaxDurationMs > 0 {
		return o.MaxDurationMs
	}
	return DefaultMaxDuration
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// teardownTimeout bounds each step of the clean-up: waiting for killed
// processes to be reaped, for cgroups to empty, for swapoff.
const teardownTimeout = 30 * time.Second

// Check reports whether sc can run for real on this host, without
// running it: the host's answer (Host.Runnable) and the scenario's
// refusals, each a *scenario.Error naming the file, line and key.
func Check(sc *scenario.Scenario, opt Options) (*Host, error) {
	h, err := Probe(opt.CgroupRoot, opt.TempDir)
	if err != nil {
		return nil, err
	}
	if _, err := compile(sc, h, &opt); err != nil {
		return h, err
	}
	return h, h.Runnable()
}

// Run runs sc's workloads as real processes on this host, each in its
// cgroup, samples the kernel until run.duration_ms has passed, and
// returns what it saw. Everything it created (processes, cgroups, files,
// swap) is gone when it returns, whether it succeeded, failed or ctx was
// cancelled (cancelling ends the run early, with ctx's error). A
// scenario it cannot run is refused before anything starts, with
// *scenario.Error values naming the file, line and key.
func Run(ctx context.Context, sc *scenario.Scenario, opt Options) (*Result, error) {
	wallStart := time.Now()
	h, err := Probe(opt.CgroupRoot, opt.TempDir)
	if err != nil {
		return nil, err
	}
	p, err := compile(sc, h, &opt)
	if err != nil {
		return nil, err
	}
	if err := h.Runnable(); err != nil {
		return nil, err
	}
	r := &runner{p: p, h: h, opt: &opt, fs: cgroupFS{host: h.Cgroup}, log: opt.Log}
	if r.log == nil {
		r.log = io.Discard
	}
	unlock, err := lockHost(ctx, r.log)
	if err != nil {
		return nil, err
	}
	defer unlock()
	stale, serr := sweepStale(h)
	for _, s := range stale {
		fmt.Fprintf(r.log, "real: removed %s, left by a run that was killed\n", s)
	}
	if serr != nil {
		fmt.Fprintf(r.log, "real: %v\n", serr)
	}
	res, err := r.runGuarded(ctx)
	if terr := r.teardown(); terr != nil {
		return nil, errors.Join(err, terr)
	}
	if err != nil {
		return nil, err
	}
	res.Summary.WallNs = int64(time.Since(wallStart))
	res.Summary.StaleRemoved = stale
	return res, nil
}

// runner is one real run in progress.
type runner struct {
	p   *plan
	h   *Host
	opt *Options
	fs  cgroupFS
	log io.Writer

	tempDir string
	swap    *swapFile
	parent  *group
	groups  []*group // the scenario's cgroups, parents first
	procs   []*proc
	t0      time.Time
	setupNs int64
	smp     *sampler
}

// runGuarded is run with a panic turned into an error, so that a bug
// still leaves the host clean: teardown runs after it in every case.
func (r *runner) runGuarded(ctx context.Context) (res *Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, fmt.Errorf("real: internal error (a bug; the run was cleaned up): %v\n%s", v, debug.Stack())
		}
	}()
	return r.run(ctx)
}

// run sets the run up, runs it and collects its result; teardown undoes
// whatever it got to.
func (r *runner) run(ctx context.Context) (*Result, error) {
	setupStart := time.Now()
	setupCtx, cancel := context.WithTimeout(ctx, r.opt.setupTimeout())
	defer cancel()
	if err := r.setup(setupCtx); err != nil {
		return nil, err
	}
	r.setupNs = int64(time.Since(setupStart))
	r.smp = newSampler(r)
	if err := r.begin(); err != nil {
		return nil, err
	}
	fmt.Fprintf(r.log, "real: running %s for %d ms\n", r.p.sc.Run.Name, r.p.sc.Run.DurationMs)
	if err := r.smp.loop(ctx, r.t0.Add(time.Duration(r.p.durationNs))); err != nil {
		return nil, err
	}
	r.stop()
	// A kill the kernel logged before the end counts even when the
	// victim was reaped after it.
	r.smp.deaths(r.t0.Add(time.Duration(r.p.durationNs)))
	return r.result()
}

// setup makes the temporary directory, the swap file and the cgroups,
// then starts every process and waits until each has set up.
func (r *runner) setup(ctx context.Context) error {
	var err error
	if r.tempDir, err = os.MkdirTemp(r.h.TempDir, "sbmpsim-real-"+strconv.Itoa(os.Getpid())+"-"); err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	if mb := r.p.sc.Kernel.SwapMB; mb > 0 {
		fmt.Fprintf(r.log, "real: adding %d MiB of swap\n", mb)
		if r.swap, err = addSwap(filepath.Join(r.tempDir, "swapfile"), mb<<20); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.makeGroups(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.startProcs(); err != nil {
		return err
	}
	for _, p := range r.procs {
		select {
		case <-p.ready:
		case <-p.exited:
			_, _, werr := p.message()
			return fmt.Errorf("worker %s failed to set up: %s", p.spec.Name, firstNonEmpty(werr, p.stderr.String(), "it exited"))
		case <-ctx.Done():
			return fmt.Errorf("setting up worker %s: %w", p.spec.Name, ctx.Err())
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// makeGroups creates the private parent and the scenario's cgroups under
// it, parents first, and writes their limits.
func (r *runner) makeGroups() error {
	var tag [4]byte
	if _, err := rand.Read(tag[:]); err != nil {
		return err
	}
	name := "sbmpsim-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(tag[:])
	r.parent = &group{dir: filepath.Join(r.h.Cgroup.Mount, name)}
	if err := r.fs.create(r.parent.dir, true); err != nil {
		r.parent = nil
		return err
	}
	swapOn, swappiness := r.p.sc.Kernel.SwapMB > 0, r.p.sc.Kernel.Swappiness
	if err := r.fs.configure(r.parent, swapOn, swappiness); err != nil {
		return err
	}
	for i := range r.p.cgroups {
		c := &r.p.cgroups[i]
		g := &group{path: c.path, dir: r.parent.dir + c.path, plan: c}
		if err := r.fs.create(g.dir, !c.leaf); err != nil {
			return err
		}
		r.groups = append(r.groups, g)
		if err := r.fs.configure(g, swapOn, swappiness); err != nil {
			return err
		}
	}
	return nil
}

// groupOf returns the group of a scenario cgroup path.
func (r *runner) groupOf(path string) *group {
	for _, g := range r.groups {
		if g.path == path {
			return g
		}
	}
	return nil
}

// teardown kills and reaps every process, removes the cgroups (children
// first), the swap file and the temporary directory. It does each step
// whatever the others did and returns every failure: what it names is
// left on the host.
func (r *runner) teardown() error {
	deadline := time.Now().Add(teardownTimeout)
	for _, p := range r.procs {
		p.kill()
	}
	var errs []error
	for _, p := range r.procs {
		if !p.waitExited(deadline) {
			errs = append(errs, fmt.Errorf("worker %s (pid %d) was not reaped", p.spec.Name, p.info.RealPID))
		}
	}
	groups := r.groups
	if r.parent != nil {
		groups = append([]*group{r.parent}, groups...)
	}
	for i := len(groups) - 1; i >= 0; i-- {
		if err := r.fs.remove(groups[i].dir, deadline); err != nil {
			errs = append(errs, err)
		}
	}
	r.groups, r.parent = nil, nil
	if r.smp != nil && r.smp.kmsg != nil {
		r.smp.kmsg.close()
		r.smp.kmsg = nil
	}
	if r.swap != nil {
		if err := r.swap.remove(deadline); err != nil {
			errs = append(errs, err)
		}
	}
	if r.tempDir != "" {
		if err := os.RemoveAll(r.tempDir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", r.tempDir, err))
		}
	}
	return errors.Join(errs...)
}
