package real

import (
	"strconv"
	"testing"
)

// Records as /dev/kmsg returned them on this host (Linux 6.18, cgroup v1)
// for the two kills of one run of real-two-tasks, the second kill's
// edited into the shape of a global OOM's (no oom_memcg, a dictionary
// line after the message).
var kmsgOOM = []string{
	"4,1164,4960036796,-;grower invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n",
	"6,1162,4960032953,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/sbmpsim-20450-b1e41e91/box,task_memcg=/sbmpsim-20450-b1e41e91/box,task=sidecar,pid=20463,uid=0\n",
	"3,1163,4960032995,-;Memory cgroup out of memory: Killed process 20463 (sidecar) total-vm:1529092kB, anon-rss:32256kB, file-rss:11620kB, shmem-rss:0kB, UID:0 pgtables:204kB oom_score_adj:500\n",
	"6,1241,4960037021,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/sbmpsim-20450-b1e41e91/box,task=grower,pid=20459,uid=0\n SUBSYSTEM=memory\n",
	"3,1242,4960037039,-;Out of memory: Killed process 20459 (grower) total-vm:1580292kB, anon-rss:67072kB, file-rss:11940kB, shmem-rss:0kB, UID:0 pgtables:280kB oom_score_adj:0\n",
}

func TestParseKmsgOOM(t *testing.T) {
	var kills []kmsgKill
	memcg := map[int]string{}
	for _, rec := range kmsgOOM {
		r, err := parseKmsgRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		if m, comm, pid, ok := parseOOMKillLine(r.Msg); ok {
			memcg[pid] = m
			if comm != "sidecar" && comm != "grower" {
				t.Errorf("comm %q", comm)
			}
		} else if k, ok := parseKilledLine(r.Msg); ok {
			k.TimeUs, k.Memcg = r.TimeUs, memcg[k.PID]
			kills = append(kills, k)
		}
	}
	want := []kmsgKill{
		{TimeUs: 4960032995, Memcg: "/sbmpsim-20450-b1e41e91/box", PID: 20463, Comm: "sidecar", AnonKB: 32256, FileKB: 11620, PgtableK: 204, Adj: 500},
		{TimeUs: 4960037039, Memcg: "", PID: 20459, Comm: "grower", AnonKB: 67072, FileKB: 11940, PgtableK: 280},
	}
	if len(kills) != 2 || kills[0] != want[0] || kills[1] != want[1] {
		t.Fatalf("kills %+v\nwant  %+v", kills, want)
	}
}

func TestParseKmsgErrors(t *testing.T) {
	for _, bad := range []string{"", "no prefix", "6,1;msg", "6,x,1,-;m", "6,1,-5,-;m"} {
		if _, err := parseKmsgRecord(bad); err == nil {
			t.Errorf("parseKmsgRecord(%q) took it", bad)
		}
	}
	if _, ok := parseKilledLine("Killed process 12 (x) total-vm:1kB, anon-rss:99999999999999999999kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0"); ok {
		t.Error("an overflowing anon-rss was taken")
	}
}

// FuzzParseKmsg checks the kernel log's parsers: they never panic, and a
// "Killed process" line they accept reads back the same when written
// again.
func FuzzParseKmsg(f *testing.F) {
	for _, r := range kmsgOOM {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, rec string) {
		r, err := parseKmsgRecord(rec)
		if err != nil {
			return
		}
		parseOOMKillLine(r.Msg)
		k, ok := parseKilledLine(r.Msg)
		if !ok {
			return
		}
		line := "Killed process " + strconv.Itoa(k.PID) + " (" + k.Comm + ") total-vm:1kB, anon-rss:" + strconv.FormatInt(k.AnonKB, 10) +
			"kB, file-rss:" + strconv.FormatInt(k.FileKB, 10) + "kB, shmem-rss:" + strconv.FormatInt(k.ShmemKB, 10) +
			"kB, UID:0 pgtables:" + strconv.FormatInt(k.PgtableK, 10) + "kB oom_score_adj:" + strconv.FormatInt(k.Adj, 10)
		if again, ok := parseKilledLine(line); !ok || again != k {
			t.Fatalf("round trip: %+v, %v != %+v", again, ok, k)
		}
	})
}
