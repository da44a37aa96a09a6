package real

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/sim"
)

// This file holds the workers of the kernel-side workloads: a task
// faulting anonymous memory in (mlocked or not) and a page-cache reader.
// Each does per millisecond what the simulation's task does per fault
// tick (world's taskDriver), paced by the clock rather than by ticks so
// that a late tick catches up.

const (
	pageBytes = 4096
	// tick is how often a worker does its next share of work (the
	// simulation's faultTickNs).
	tick = time.Millisecond
	// progressEvery is how often a worker reports its counters.
	progressEvery = 100 * time.Millisecond
	// fileChunk is the unit a worker writes its files in, and
	// dropEvery how much it writes before it writes that back and drops
	// it from the page cache: writing a file set never holds more dirty
	// page cache than that, and the worker's own heap stays small.
	fileChunk = 1 << 20
	dropEvery = 8 << 20
	// fileBytesMax is the size of one file of a page-cache reader's set.
	fileBytesMax = 64 << 20
	// maxReadsPerTick bounds the reads a reader makes before it looks
	// at stop again, when it catches up.
	maxReadsPerTick = 10000
)

// anonJob is a task: it maps ReserveBytes of anonymous memory and writes
// one byte to each 4 KiB page at BytesPerS up to TargetBytes (or the
// whole reservation), mlocking what it faulted in when mlock is set, and
// every TouchNs (if set) writes to all of it again. A task with
// PageCacheBytes first writes a file of that size, drops it from the
// page cache and reads it once, as the simulation's task reads its file
// at start.
type anonJob struct {
	spec  *workerSpec
	mlock bool
	mem   []byte
}

func (j *anonJob) setup() error {
	var err error
	j.mem, err = unix.Mmap(-1, 0, int(j.spec.ReserveBytes), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return fmt.Errorf("mmap %d bytes: %w", j.spec.ReserveBytes, err)
	}
	if j.spec.PageCacheBytes == 0 {
		return nil
	}
	paths, err := writeFileSet(j.spec.Dir, j.spec.PageCacheBytes)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := readOnce(p); err != nil {
			return err
		}
	}
	return nil
}

func (j *anonJob) run(start time.Time, stop <-chan struct{}, progress func(workerMsg)) (workerMsg, error) {
	var m workerMsg
	begin := start.Add(time.Duration(j.spec.StartNs))
	if !sleepUntil(begin, stop) {
		return m, nil
	}
	target := int64(len(j.mem)) / pageBytes
	if j.spec.TargetBytes > 0 {
		target = min(target, j.spec.TargetBytes/pageBytes)
	}
	pace := newPacer(begin, j.spec.BytesPerS/pageBytes, j.spec.Loop)
	t := time.NewTicker(tick)
	defer t.Stop()
	lastTouch, lastReport := begin, begin
	for {
		select {
		case <-stop:
			return m, nil
		case now := <-t.C:
			t0 := time.Now()
			if due := min(target, pace.due(now)); due > m.PagesGot {
				j.fault(m.PagesGot, due)
				m.PagesGot = due
			}
			if j.spec.TouchNs > 0 && now.Sub(lastTouch) >= time.Duration(j.spec.TouchNs) {
				j.touch(0, m.PagesGot)
				lastTouch = now
			}
			d := time.Since(t0)
			m.FaultNs += int64(d)
			pace.worked(d)
			if now.Sub(lastReport) >= progressEvery {
				progress(m)
				lastReport = now
			}
		}
	}
}

// fault writes to pages [from, to) and, for an mlock task, locks them. A
// failed mlock (the cgroup could not charge) is retried with the next
// batch: the range is locked again from its start.
func (j *anonJob) fault(from, to int64) {
	j.touch(from, to)
	if j.mlock {
		_ = unix.Mlock(j.mem[from*pageBytes : to*pageBytes])
	}
}

// touch writes one byte in each page of [from, to).
func (j *anonJob) touch(from, to int64) {
	for p := from; p < to; p++ {
		j.mem[p*pageBytes]++
	}
}

// readerJob is a page-cache reader: it writes its file set (written back
// and dropped from the page cache, so that it starts cold, as the
// simulation's reader does), then reads BytesPerS worth of 4 KiB pages a
// second at uniformly random places with pread. Readahead is off
// (FADV_RANDOM), so a miss reads exactly its page. Before each read,
// cachestat(2) says whether the page is in the page cache: the misses
// are counted, not estimated, and the read itself is a plain blocking
// pread, as an application's is.
//
// The count does not use preadv2(RWF_NOWAIT), which fails on a page not
// in the page cache: a NOWAIT read that misses still starts the page's
// read, and Linux runs that readahead under memalloc_noio_save
// (mm/filemap.c, filemap_get_pages, v6.18), so the page's memory cgroup
// charge, and the reclaim it triggers, is GFP_NOIO. Reclaim without
// __GFP_IO cannot swap (shrink_folio_list keeps an anonymous folio that
// is not in the swap cache, and unmaps but does not write one that is),
// so every miss of such a reader pushed the swapping onto the other
// tasks of its cgroup. Traced on this project's host
// (mm_vmscan_memcg_reclaim_begin): all 1,759 reclaim runs the probing
// reader entered were GFP_NOIO and wrote no page.
type readerJob struct {
	spec  *workerSpec
	files []*os.File
	pages int64 // pages in the set
	rng   sim.Stream
}

func (j *readerJob) setup() error {
	paths, err := writeFileSet(j.spec.Dir, j.spec.PageCacheBytes)
	if err != nil {
		return err
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM); err != nil {
			return fmt.Errorf("fadvise %s: %w", p, err)
		}
		j.files = append(j.files, f)
	}
	j.pages = j.spec.PageCacheBytes / pageBytes
	j.rng = sim.NewStream(j.spec.Seed, "real/"+j.spec.Name+"/reads")
	return nil
}

func (j *readerJob) run(start time.Time, stop <-chan struct{}, progress func(workerMsg)) (workerMsg, error) {
	m := workerMsg{MissesMeasured: true}
	begin := start.Add(time.Duration(j.spec.StartNs))
	if !sleepUntil(begin, stop) {
		return m, nil
	}
	pace := newPacer(begin, j.spec.BytesPerS/pageBytes, j.spec.Loop)
	buf := make([]byte, pageBytes)
	t := time.NewTicker(tick)
	defer t.Stop()
	lastReport := begin
	for {
		select {
		case <-stop:
			return m, nil
		case now := <-t.C:
			t0 := time.Now()
			for n, due := 0, pace.due(now); m.PagesRead < due && n < maxReadsPerTick; n++ {
				if err := j.read(buf, &m); err != nil {
					return m, err
				}
				m.PagesRead++
			}
			d := time.Since(t0)
			m.FaultNs += int64(d)
			pace.worked(d)
			if now.Sub(lastReport) >= progressEvery {
				progress(m)
				lastReport = now
			}
		}
	}
}

// read reads one page at a uniformly random place of the set, or, for
// a share HotFraction of reads, of its first HotBytes.
func (j *readerJob) read(buf []byte, m *workerMsg) error {
	n := j.pages
	if hot := j.spec.HotBytes / pageBytes; hot > 0 && j.rng.Float64() < j.spec.HotFraction {
		n = hot
	}
	page := int64(j.rng.IntN(int(n)))
	f := j.files[page*pageBytes/fileBytesMax]
	off := page * pageBytes % fileBytesMax
	if m.MissesMeasured {
		var cs unix.Cachestat_t
		err := unix.Cachestat(uint(f.Fd()), &unix.CachestatRange{Off: uint64(off), Len: pageBytes}, &cs, 0)
		switch {
		case err == nil:
			if cs.Cache == 0 {
				m.PagesMissed++
			}
		case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EPERM):
			// cachestat(2) is Linux 6.5 and later; without it the
			// misses are not counted (kernels before it, seccomp).
			m.MissesMeasured = false
		default:
			return fmt.Errorf("cachestat %s at %d: %w", f.Name(), off, err)
		}
	}
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return fmt.Errorf("read %s at %d: %w", f.Name(), off, err)
	}
	return nil
}

// pacer says how much of a worker's work is due, by its loop mode
// (world's loopMode). With "queued" work keeps its open-loop times: what
// a stall delayed is due at once after it. With "closed" the time a tick
// of work took beyond the tick is taken off the schedule, as work that
// would have come while the worker was blocked is not issued. A real
// process cannot "ignore" a stall; it is paced as "queued".
type pacer struct {
	begin   time.Time
	perS    float64
	closed  bool
	blocked time.Duration
}

func newPacer(begin time.Time, perS float64, loop string) *pacer {
	return &pacer{begin: begin, perS: perS, closed: loop == "" || loop == scenario.LoopClosed}
}

// due is the work due by now since the start.
func (p *pacer) due(now time.Time) int64 {
	return int64(p.perS * (now.Sub(p.begin) - p.blocked).Seconds())
}

// worked notes a tick's work took d.
func (p *pacer) worked(d time.Duration) {
	if p.closed && d > tick {
		p.blocked += d - tick
	}
}

// writeFileSet writes size bytes as files of at most fileBytesMax in
// dir, each chunk written back and dropped from the page cache, and
// returns their paths. The writer is in its cgroup, so what the page
// cache holds of them meanwhile is charged there.
func writeFileSet(dir string, size int64) ([]string, error) {
	chunk := make([]byte, fileChunk)
	for i := range chunk {
		chunk[i] = byte(i*7 + i>>12)
	}
	var paths []string
	for n := 0; size > 0; n++ {
		p := filepath.Join(dir, "data."+strconv.Itoa(n))
		this := min(size, fileBytesMax)
		if err := writeDropped(p, this, chunk); err != nil {
			return nil, err
		}
		paths = append(paths, p)
		size -= this
	}
	return paths, nil
}

// writeDropped writes a file of size bytes from chunk, syncing and
// dropping each chunk from the page cache.
func writeDropped(path string, size int64, chunk []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	var dropped int64
	for off := int64(0); off < size; {
		n := min(int64(len(chunk)), size-off)
		if _, err := f.Write(chunk[:n]); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if off += n; off-dropped < dropEvery && off < size {
			continue
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", path, err)
		}
		if err := unix.Fadvise(int(f.Fd()), dropped, off-dropped, unix.FADV_DONTNEED); err != nil {
			return fmt.Errorf("fadvise %s: %w", path, err)
		}
		dropped = off
	}
	return f.Close()
}

// readOnce reads a file from start to end.
func readOnce(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}
