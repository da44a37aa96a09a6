package real

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// This file is the worker's side of the re-exec protocol. The run starts
// each process as its own binary with workerEnv set to the process's
// spec; IsWorker tells main (or a test's TestMain) to call WorkerMain
// instead of doing its usual work. No other program is needed.
//
// Two pipes connect a worker with the run: the control pipe (fd 3, run
// to worker) carries one byte per step, and the status pipe (fd 4,
// worker to run) one JSON line per message. The steps:
//
//	run: start the worker (Pdeathsig SIGKILL, its own process group)
//	run: move it into its cgroup, write its oom_score_adj, send 'p'
//	worker: set up (write and drop its files), send {"state":"ready"}
//	run: when every worker is ready, send 'g' to each: the run starts
//	worker: work, sending {"state":"progress",...} every 100 ms
//	run: at the end, send 's'; worker: send {"state":"done",...}, exit 0
//
// A worker exits at once when the control pipe closes (the run died),
// and on its own after its spec's lifetime: it never outlives the run
// by much even if Pdeathsig and the pipe both failed.

// workerEnv is the environment variable that makes the binary a worker;
// its value is the base64 JSON of the worker's spec.
const workerEnv = "SBMPSIM_REAL_WORKER"

// The worker's ends of the pipes.
const (
	ctlFD    = 3
	statusFD = 4
)

// Control bytes, run to worker.
const (
	ctlPlaced = 'p'
	ctlGo     = 'g'
	ctlStop   = 's'
)

// Exit codes of a worker.
const (
	exitOK         = 0
	exitFailed     = 1
	exitBadSpec    = 2
	exitParentGone = 3
)

// Worker kinds.
const (
	kindAnon      = "anon"  // a task: anonymous memory
	kindMlock     = "mlock" // anonymous memory, mlocked
	kindPageCache = "page-cache"
	kindSBMP      = "sbmp" // an SBMP process running synthetic workloads
)

// workerSpec is what one worker does. Sizes in bytes, times in ns.
type workerSpec struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	Comm string `json:"comm"`
	// StartNs is when it starts working, after the run's start.
	StartNs int64 `json:"start_ns"`
	// SetupNs bounds its set-up; LifetimeNs its life after the start.
	SetupNs    int64   `json:"setup_ns"`
	LifetimeNs int64   `json:"lifetime_ns"`
	BytesPerS  float64 `json:"bytes_per_s"`
	// TargetBytes is where a task stops growing; ReserveBytes the
	// address space it maps (its growth ends there too).
	TargetBytes  int64 `json:"target_bytes"`
	ReserveBytes int64 `json:"reserve_bytes"`
	// PageCacheBytes is a task's file read once at start, or a
	// page-cache reader's file set; Dir is where its files go.
	PageCacheBytes int64  `json:"page_cache_bytes"`
	Dir            string `json:"dir"`
	Seed           uint64 `json:"seed"`
	// Loop is the workload's loop mode (scenario.LoopClosed, ...).
	Loop string `json:"loop"`
	// TouchNs is how often a task writes to all its memory again (0:
	// never).
	TouchNs int64 `json:"touch_ns,omitempty"`
	// HotBytes and HotFraction: a reader's share HotFraction of reads
	// falls on the first HotBytes of its set (0: the whole set).
	HotBytes    int64   `json:"hot_bytes,omitempty"`
	HotFraction float64 `json:"hot_fraction,omitempty"`
	// CPUs are the CPUs the thread doing a task's work runs on (pin.go);
	// empty: it is not pinned.
	CPUs []int `json:"cpus,omitempty"`
	// An SBMP process: the scenario (canonical TOML, parsed as if from
	// Source), the indices of its synthetic workloads, the arena it
	// reserves, its heap's shards and the run's length.
	Scenario   []byte `json:"scenario,omitempty"`
	Source     string `json:"source,omitempty"`
	Workloads  []int  `json:"workloads,omitempty"`
	ArenaBytes int64  `json:"arena_bytes,omitempty"`
	Shards     int    `json:"shards,omitempty"`
	DurationNs int64  `json:"duration_ns,omitempty"`
}

// workerMsg is one status line, worker to run.
type workerMsg struct {
	State string `json:"state"` // ready, progress, done or error
	Error string `json:"error,omitempty"`
	// A task: pages faulted in, and the time spent faulting them.
	PagesGot int64 `json:"pages_got,omitempty"`
	FaultNs  int64 `json:"fault_ns,omitempty"`
	// A page-cache reader: pages read, and the reads that missed the
	// page cache (measured when MissesMeasured).
	PagesRead      int64 `json:"pages_read,omitempty"`
	PagesMissed    int64 `json:"pages_missed,omitempty"`
	MissesMeasured bool  `json:"misses_measured,omitempty"`
	// An SBMP process: its workloads and its allocator's counters.
	Workloads  []world.WorkloadSummary `json:"workloads,omitempty"`
	TierAllocs world.TierCounts        `json:"tier_allocs,omitempty"`
	Fallbacks  int64                   `json:"fallback_count,omitempty"`
}

// job is one kind of work: set up before the run starts, then run
// until stop closes, reporting progress as it goes; run returns the
// final report.
type job interface {
	setup() error
	run(start time.Time, stop <-chan struct{}, progress func(workerMsg)) (workerMsg, error)
}

// IsWorker reports whether this process was started as a worker of a
// real run. main, and the TestMain of any package whose tests call Run,
// must then call WorkerMain and exit with its code before doing anything
// else.
func IsWorker() bool { return os.Getenv(workerEnv) != "" }

// WorkerMain runs this process as a worker and returns its exit code.
// samplers builds synthetic workloads' samplers; it must be the builder
// the run was given (Options.Samplers), or nil when it was given none.
func WorkerMain(samplers SamplerFunc) int {
	spec, err := decodeSpec(os.Getenv(workerEnv))
	os.Unsetenv(workerEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sbmpsim real worker: %v\n", err)
		return exitBadSpec
	}
	c, err := openConn()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sbmpsim real worker %s: %v\n", spec.Name, err)
		return exitBadSpec
	}
	if err := c.serve(spec, samplers); err != nil {
		c.send(workerMsg{State: "error", Error: err.Error()})
		fmt.Fprintf(os.Stderr, "sbmpsim real worker %s: %v\n", spec.Name, err)
		return exitFailed
	}
	return exitOK
}

func encodeSpec(s *workerSpec) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func decodeSpec(v string) (*workerSpec, error) {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", workerEnv, err)
	}
	s := &workerSpec{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%s: %w", workerEnv, err)
	}
	return s, nil
}

// conn is the worker's end of the two pipes.
type conn struct {
	ctl, status *os.File
	mu          sync.Mutex
}

// openConn opens the inherited pipes, non-blocking so that reads can
// time out.
func openConn() (*conn, error) {
	for _, fd := range []int{ctlFD, statusFD} {
		if err := syscall.SetNonblock(fd, true); err != nil {
			return nil, fmt.Errorf("fd %d: %w", fd, err)
		}
	}
	return &conn{ctl: os.NewFile(ctlFD, "control"), status: os.NewFile(statusFD, "status")}, nil
}

// send writes one status line; a line is shorter than PIPE_BUF unless it
// carries many workloads, and one writer at a time keeps lines whole.
func (c *conn) send(m workerMsg) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = c.status.Write(append(b, '\n'))
}

// await reads the next control byte, failing after d.
func (c *conn) await(d time.Duration) (byte, error) {
	if err := c.ctl.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	var b [1]byte
	if _, err := io.ReadFull(c.ctl, b[:]); err != nil {
		return 0, err
	}
	return b[0], c.ctl.SetReadDeadline(time.Time{})
}

// serve runs the protocol for spec.
func (c *conn) serve(spec *workerSpec, samplers SamplerFunc) error {
	if err := os.WriteFile("/proc/self/comm", []byte(spec.Comm), 0); err != nil {
		return fmt.Errorf("set comm: %w", err)
	}
	setup := time.Duration(spec.SetupNs)
	if b, err := c.await(setup); err != nil || b != ctlPlaced {
		return fmt.Errorf("waiting to be placed in the cgroup: byte %q, %v", b, err)
	}
	j, err := newJob(spec, samplers)
	if err != nil {
		return err
	}
	if err := j.setup(); err != nil {
		return err
	}
	// Give back what set-up took of the heap (file buffers): it is the
	// worker's own memory, charged to its cgroup, and no workload's.
	debug.FreeOSMemory()
	c.send(workerMsg{State: "ready"})
	if b, err := c.await(setup); err != nil || b != ctlGo {
		return fmt.Errorf("waiting for the start: byte %q, %v", b, err)
	}
	if len(spec.CPUs) > 0 {
		// The job runs on this goroutine: keep it on this thread and
		// the thread on its CPUs. The runtime's other threads are free.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := pinThread(spec.CPUs); err != nil {
			return err
		}
	}
	start := time.Now()
	stop := make(chan struct{})
	var once sync.Once
	stopNow := func() { once.Do(func() { close(stop) }) }
	go c.watch(stopNow)
	timer := time.AfterFunc(time.Duration(spec.LifetimeNs), stopNow)
	defer timer.Stop()
	final, err := j.run(start, stop, func(m workerMsg) { m.State = "progress"; c.send(m) })
	if err != nil {
		return err
	}
	final.State = "done"
	c.send(final)
	return nil
}

// watch reads control bytes after the start: 's' stops the job; the
// pipe closing means the run is gone, and the worker exits at once.
func (c *conn) watch(stop func()) {
	var b [1]byte
	for {
		_, err := c.ctl.Read(b[:])
		if err != nil {
			os.Exit(exitParentGone)
		}
		if b[0] == ctlStop {
			stop()
		}
	}
}

// newJob makes the job of spec's kind.
func newJob(spec *workerSpec, samplers SamplerFunc) (job, error) {
	switch spec.Kind {
	case kindAnon, kindMlock:
		return &anonJob{spec: spec, mlock: spec.Kind == kindMlock}, nil
	case kindPageCache:
		return &readerJob{spec: spec}, nil
	case kindSBMP:
		return newSBMPJob(spec, samplers)
	}
	return nil, fmt.Errorf("no worker kind %q", spec.Kind)
}

// sleepUntil waits until t or until stop closes; false when stopped.
func sleepUntil(t time.Time, stop <-chan struct{}) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-stop:
		return false
	case <-timer.C:
		return true
	}
}
