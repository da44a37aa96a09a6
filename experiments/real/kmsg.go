package real

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// This file reads the OOM killer's own reports from the kernel log
// (/dev/kmsg): for each kill, the "oom-kill:" line names the cgroup
// whose limit was hit and the victim, and the "Killed process" line the
// victim's memory at the kill (mm/oom_kill.c, dump_oom_victim and
// __oom_kill_process). A run reads them from its start; without access
// to the log (a container, dmesg_restrict without root) it falls back on
// what it samples.

// kmsgKill is one OOM kill as the kernel logged it.
type kmsgKill struct {
	// TimeUs is the record's time stamp (local_clock, in microseconds
	// since boot; within a fraction of a millisecond of CLOCK_MONOTONIC).
	TimeUs int64
	// Memcg is the cgroup whose limit was hit (oom_memcg, relative to the
	// hierarchy's root), "" for a global OOM.
	Memcg    string
	PID      int
	Comm     string
	AnonKB   int64
	FileKB   int64
	ShmemKB  int64
	PgtableK int64
	Adj      int64
}

// kmsgRecord is one record of /dev/kmsg: "PRIO,SEQ,TS_US,FLAGS;MESSAGE"
// followed by " KEY=VALUE" continuation lines, which are dropped.
type kmsgRecord struct {
	Seq, TimeUs int64
	Msg         string
}

// parseKmsgRecord parses one record as a read(2) of /dev/kmsg returns it.
func parseKmsgRecord(b string) (kmsgRecord, error) {
	head, msg, ok := strings.Cut(b, ";")
	if !ok {
		return kmsgRecord{}, errors.New("kmsg: no ';' after the record's prefix")
	}
	msg, _, _ = strings.Cut(msg, "\n")
	f := strings.Split(head, ",")
	if len(f) < 4 {
		return kmsgRecord{}, fmt.Errorf("kmsg: prefix %q: want PRIO,SEQ,TS,FLAGS", truncate(head, 40))
	}
	var r kmsgRecord
	var err error
	if r.Seq, err = strconv.ParseInt(f[1], 10, 64); err != nil || r.Seq < 0 {
		return kmsgRecord{}, fmt.Errorf("kmsg: sequence %q", truncate(f[1], 24))
	}
	if r.TimeUs, err = strconv.ParseInt(f[2], 10, 64); err != nil || r.TimeUs < 0 {
		return kmsgRecord{}, fmt.Errorf("kmsg: time stamp %q", truncate(f[2], 24))
	}
	r.Msg = msg
	return r, nil
}

var (
	// oomKillLine is dump_oom_victim's summary line.
	oomKillLine = regexp.MustCompile(`^oom-kill:constraint=[A-Z_]+,.*?(?:,oom_memcg=([^,]*))?,task_memcg=[^,]*,task=(.*),pid=([0-9]+),uid=[0-9]+$`)
	// killedLine is __oom_kill_process's report of the victim.
	killedLine = regexp.MustCompile(`Killed process ([0-9]+) \((.*)\) total-vm:[0-9]+kB, anon-rss:([0-9]+)kB, file-rss:([0-9]+)kB, shmem-rss:([0-9]+)kB, UID:[0-9]+ pgtables:([0-9]+)kB oom_score_adj:(-?[0-9]+)$`)
)

// parseOOMKillLine parses an "oom-kill:" message: the OOM's cgroup ("" for
// a global OOM), the victim's comm and pid.
func parseOOMKillLine(msg string) (memcg, comm string, pid int, ok bool) {
	m := oomKillLine.FindStringSubmatch(msg)
	if m == nil {
		return "", "", 0, false
	}
	pid, err := strconv.Atoi(m[3])
	if err != nil {
		return "", "", 0, false
	}
	return m[1], m[2], pid, true
}

// parseKilledLine parses a "Killed process" message into k (all but the
// time and the cgroup).
func parseKilledLine(msg string) (k kmsgKill, ok bool) {
	m := killedLine.FindStringSubmatch(msg)
	if m == nil {
		return k, false
	}
	var err error
	if k.PID, err = strconv.Atoi(m[1]); err != nil {
		return k, false
	}
	k.Comm = m[2]
	for i, dst := range []*int64{&k.AnonKB, &k.FileKB, &k.ShmemKB, &k.PgtableK, &k.Adj} {
		if *dst, err = strconv.ParseInt(m[3+i], 10, 64); err != nil {
			return k, false
		}
	}
	return k, true
}

// kmsgReader collects the OOM kills logged since it was opened.
type kmsgReader struct {
	fd    int
	buf   []byte
	memcg map[int]string // pid -> oom_memcg of its oom-kill line
	kills []kmsgKill
}

// openKmsg opens the kernel log at its end, so that only what is logged
// from now on is read.
func openKmsg() (*kmsgReader, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("kernel log: %w", err)
	}
	if _, err := unix.Seek(fd, 0, io.SeekEnd); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("kernel log: %w", err)
	}
	return &kmsgReader{fd: fd, buf: make([]byte, 8192), memcg: map[int]string{}}, nil
}

// drain reads every record logged since the last call. Records the ring
// buffer overwrote before they were read (EPIPE) are skipped.
func (k *kmsgReader) drain() {
	for range 100000 { // a bound: the log holds far fewer records
		n, err := unix.Read(k.fd, k.buf)
		switch {
		case errors.Is(err, unix.EPIPE):
			continue
		case err != nil || n <= 0:
			return
		}
		r, err := parseKmsgRecord(string(k.buf[:n]))
		if err != nil {
			continue
		}
		if memcg, _, pid, ok := parseOOMKillLine(r.Msg); ok {
			k.memcg[pid] = memcg
		} else if kill, ok := parseKilledLine(r.Msg); ok {
			kill.TimeUs, kill.Memcg = r.TimeUs, k.memcg[kill.PID]
			k.kills = append(k.kills, kill)
		}
	}
}

// kill returns the logged kill of pid, if any.
func (k *kmsgReader) kill(pid int) (kmsgKill, bool) {
	for _, x := range k.kills {
		if x.PID == pid {
			return x, true
		}
	}
	return kmsgKill{}, false
}

func (k *kmsgReader) close() { unix.Close(k.fd) }
