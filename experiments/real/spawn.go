package real

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/input/host"
)

// This file is the run's side of the worker protocol (worker.go): start
// a worker, place it, release it, read what it says, stop and reap it.

// stderrMax bounds what is kept of a worker's standard error.
const stderrMax = 4096

// proc is one worker process as the run sees it.
type proc struct {
	spec *workerSpec
	info Process // the summary's view, filled as the run goes
	// adjKey is the scenario key of its oom_score_adj, for refusals.
	adjKey string
	// cpus are the CPUs it is pinned to (pin.go); nil: not pinned.
	cpus   []int
	group  *group
	cmd    *exec.Cmd
	ctl    *os.File
	stderr capBuffer

	exited chan struct{} // closed when reaped
	exitAt time.Time
	state  *os.ProcessState
	ready  chan struct{} // closed at its ready message

	mu   sync.Mutex
	last workerMsg // its latest progress or final message
	done bool      // it sent its final message
	err  string    // the error it reported

	// died: the run has accounted for its death.
	died bool
	// The last sample of it, and its largest RSS + swap seen.
	lastTask  host.Task
	lastNs    int64
	sampled   bool
	peakPages int64
}

// capBuffer keeps the first stderrMax bytes written to it.
type capBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := stderrMax - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *capBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(string(b.buf))
}

// start starts the worker from exe. It dies with this process
// (Pdeathsig), and runs in its own process group so that a terminal's
// Ctrl-C reaches the run, which stops it, rather than the worker.
func (p *proc) start(exe string, env []string) error {
	enc, err := encodeSpec(p.spec)
	if err != nil {
		return err
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return err
	}
	stR, stW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(env, workerEnv+"="+enc)
	cmd.ExtraFiles = []*os.File{ctlR, stW} // fds 3 and 4
	cmd.Stderr = &p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	err = cmd.Start()
	ctlR.Close()
	stW.Close()
	if err != nil {
		ctlW.Close()
		stR.Close()
		return fmt.Errorf("start worker %s: %w", p.spec.Name, err)
	}
	p.cmd, p.ctl = cmd, ctlW
	p.info.RealPID = cmd.Process.Pid
	p.exited, p.ready = make(chan struct{}), make(chan struct{})
	go p.reap()
	go p.listen(stR)
	return nil
}

// reap waits for the worker's exit.
func (p *proc) reap() {
	_ = p.cmd.Wait()
	p.mu.Lock()
	p.exitAt, p.state = time.Now(), p.cmd.ProcessState
	p.mu.Unlock()
	p.ctl.Close()
	close(p.exited)
}

// listen reads the worker's status lines until the pipe closes.
func (p *proc) listen(r *os.File) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	readyClosed := false
	for sc.Scan() {
		var m workerMsg
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		p.mu.Lock()
		switch m.State {
		case "ready":
			if !readyClosed {
				close(p.ready)
				readyClosed = true
			}
		case "error":
			p.err = m.Error
		case "done":
			p.last, p.done = m, true
		default:
			p.last = m
		}
		p.mu.Unlock()
	}
}

// place moves the worker into its cgroup, sets its oom_score_adj and lets
// it set up. A refused oom_score_adj (lowering it needs
// CAP_SYS_RESOURCE) is reported against the scenario key.
func (p *proc) place(fs cgroupFS, refuse func(key, format string, args ...any) error) error {
	if err := fs.attach(p.group.dir, p.info.RealPID); err != nil {
		return fmt.Errorf("worker %s: %w", p.spec.Name, err)
	}
	if p.cpus != nil {
		if err := pin(p.info.RealPID, p.cpus); err != nil {
			return fmt.Errorf("worker %s: %w", p.spec.Name, err)
		}
	}
	if adj := p.info.OOMScoreAdj; adj != 0 {
		path := "/proc/" + strconv.Itoa(p.info.RealPID) + "/oom_score_adj"
		if err := os.WriteFile(path, []byte(strconv.FormatInt(adj, 10)), 0); err != nil {
			return refuse(p.adjKey, "this host refused oom_score_adj %d for %s (%v); lowering it below 0 needs CAP_SYS_RESOURCE, which this host does not grant: use 0 or more", adj, p.spec.Name, err)
		}
	}
	return p.send(ctlPlaced)
}

// send writes one control byte.
func (p *proc) send(b byte) error {
	if _, err := p.ctl.Write([]byte{b}); err != nil {
		return fmt.Errorf("worker %s: %w", p.spec.Name, err)
	}
	return nil
}

// alive reports whether the worker has not been reaped.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitExited waits until the worker is reaped or until, whichever comes
// first, and reports whether it was reaped.
func (p *proc) waitExited(until time.Time) bool {
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		return !p.alive()
	}
}

// kill sends SIGKILL unless the worker is reaped. os.Process signals
// through a pidfd where the kernel has them, so a reaped worker's pid,
// reused by another process, is never signalled.
func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil && p.alive() {
		_ = p.cmd.Process.Kill()
	}
}

// message returns the worker's latest message and whether it was its
// final one.
func (p *proc) message() (workerMsg, bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.done, p.err
}

// exit returns when the worker was reaped and how it ended.
func (p *proc) exit() (time.Time, *os.ProcessState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitAt, p.state
}

// workerEnvironment is the environment workers run with: this process's,
// without a worker spec, and with few Ps for the single-threaded kinds.
func workerEnvironment(kind string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, workerEnv+"=") && !strings.HasPrefix(kv, "GOMAXPROCS=") {
			env = append(env, kv)
		}
	}
	if kind != kindSBMP {
		env = append(env, "GOMAXPROCS=1")
	}
	return env
}
