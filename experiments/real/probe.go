package real

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sbmpsim/sbmpsim/experiments/input/host"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// Host is what a real run knows of the machine it runs on: the facts it
// records in real.json (the scenario's [machine] is not applied: the
// machine is what it is) and what decides whether and how it can run.
type Host struct {
	KernelRelease string `json:"kernel_release"`
	// MemTotalKB and SwapTotalKB are /proc/meminfo's, before the run
	// adds its own swap file.
	MemTotalKB  int64 `json:"mem_total_kb"`
	SwapTotalKB int64 `json:"swap_total_kb"`
	CPUs        int   `json:"cpus"`
	// Machine is the host's NUMA topology in the shape of a scenario's
	// inline [machine], so that a simulation of the same shape can be
	// set up from it; nil when /sys could not be read (MachineError
	// says why).
	Machine      *scenario.Machine `json:"machine,omitempty"`
	MachineError string            `json:"machine_error,omitempty"`
	// THPEnabled and THPDefrag are the selected words of
	// /sys/kernel/mm/transparent_hugepage/{enabled,defrag}.
	THPEnabled string `json:"thp_enabled"`
	THPDefrag  string `json:"thp_defrag"`
	// VM are the host's vm sysctls, which a real run never changes.
	VM host.Settings `json:"vm"`
	// Cgroup is the memory controller the run uses.
	Cgroup CgroupHost `json:"cgroup"`
	// Root: the run has the privileges to create cgroups and swap.
	Root bool `json:"root"`
	// TempDir is where the run keeps its files, and TempDirFS the kind
	// of file system it is on ("ext4", "tmpfs", ... or the statfs magic
	// in hex).
	TempDir   string `json:"temp_dir"`
	TempDirFS string `json:"temp_dir_fs"`
}

// CgroupHost is the memory controller's hierarchy on the host.
type CgroupHost struct {
	// Version is 1 or 2; 0 when no usable memory controller was found.
	Version int `json:"version"`
	// Mount is the directory of the hierarchy's root (cgroup v1: the
	// memory controller's mount).
	Mount string `json:"mount"`
	// Memsw: cgroup v1 swap accounting (memory.memsw.*) is on.
	Memsw bool `json:"memsw,omitempty"`
	// Why says why no controller is usable, when Version is 0.
	Why string `json:"why,omitempty"`
}

// Probe reads the host's facts. cgroupRoot, when not empty, is the
// hierarchy to use instead of the standard mounts (tests, unusual
// hosts); tempDir is where the run will keep its files ("" for
// os.TempDir()). Probe fails only when /proc itself cannot be read;
// whether a run is possible is Runnable's answer.
func Probe(cgroupRoot, tempDir string) (*Host, error) {
	h := &Host{CPUs: runtime.NumCPU(), Root: os.Geteuid() == 0, TempDir: tempDir}
	if h.TempDir == "" {
		h.TempDir = os.TempDir()
	}
	mi, err := host.ReadMeminfo("/")
	if err != nil {
		return nil, fmt.Errorf("probe host: %w", err)
	}
	h.MemTotalKB, h.SwapTotalKB = mi.MemTotalKB, mi.SwapTotalKB
	if h.VM, err = host.ReadSettings("/"); err != nil {
		return nil, fmt.Errorf("probe host: %w", err)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.KernelRelease = strings.TrimSpace(string(b))
	}
	if topo, err := host.ReadSysfs("/"); err != nil {
		h.MachineError = err.Error()
	} else {
		m := scenario.MachineOf(&topo)
		h.Machine = &m
	}
	h.THPEnabled = selectedWord("/sys/kernel/mm/transparent_hugepage/enabled")
	h.THPDefrag = selectedWord("/sys/kernel/mm/transparent_hugepage/defrag")
	h.TempDirFS = fsKind(h.TempDir)
	h.Cgroup = detectCgroup(cgroupRoot)
	return h, nil
}

// Runnable says why real runs cannot happen on this host, or nil.
func (h *Host) Runnable() error {
	switch {
	case !h.Root:
		return errors.New("real runs need root: they create memory cgroups, write oom_score_adj and may add swap")
	case h.Cgroup.Version == 0:
		return fmt.Errorf("no writable memory cgroup: %s", h.Cgroup.Why)
	case h.TempDirFS == "tmpfs":
		return fmt.Errorf("the temporary directory %s is on tmpfs, where files are shmem rather than page cache; set TMPDIR to a directory on disk", h.TempDir)
	}
	return nil
}

// selectedWord returns the bracketed word of a sysfs choice file
// ("always [madvise] never" -> "madvise"), or "" when there is none.
func selectedWord(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, w := range strings.Fields(string(b)) {
		if strings.HasPrefix(w, "[") && strings.HasSuffix(w, "]") {
			return strings.Trim(w, "[]")
		}
	}
	return ""
}

// fsKind names the file system dir is on.
func fsKind(dir string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "unknown (" + err.Error() + ")"
	}
	switch st.Type {
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	}
	return fmt.Sprintf("%#x", st.Type)
}

// detectCgroup finds the memory controller: cgroup v2 when the unified
// hierarchy (at /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid
// host) enables it for child groups, else cgroup v1's memory mount. A
// root given by the caller is taken as whichever version it is.
func detectCgroup(root string) CgroupHost {
	var why []string
	candidates := []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/memory"}
	if root != "" {
		candidates = []string{root}
	}
	for _, dir := range candidates {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil {
			why = append(why, fmt.Sprintf("%s: %v", dir, err))
			continue
		}
		switch st.Type {
		case unix.CGROUP2_SUPER_MAGIC:
			b, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
			if err == nil && slices.Contains(strings.Fields(string(b)), "memory") {
				return CgroupHost{Version: 2, Mount: dir}
			}
			why = append(why, dir+": cgroup v2 without the memory controller enabled for child groups")
		case unix.CGROUP_SUPER_MAGIC:
			if _, err := os.Stat(filepath.Join(dir, "memory.limit_in_bytes")); err != nil {
				why = append(why, dir+": a cgroup v1 hierarchy without the memory controller")
				continue
			}
			_, err := os.Stat(filepath.Join(dir, "memory.memsw.limit_in_bytes"))
			return CgroupHost{Version: 1, Mount: dir, Memsw: err == nil}
		default:
			why = append(why, dir+": not a cgroup file system")
		}
	}
	return CgroupHost{Why: strings.Join(why, "; ")}
}
