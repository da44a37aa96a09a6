package real

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file removes what an earlier run left because it was killed with
// SIGKILL, which no process can handle: its workers die with it
// (Pdeathsig), but its cgroups, temporary directory and swap file stay.
// A run removes them at its start, when the process that made them is
// gone.

var (
	// staleGroup and staleDir match the names runs give their cgroup
	// parent and temporary directory; the group is the pid of the run.
	staleGroup = regexp.MustCompile(`^sbmpsim-([0-9]+)-[0-9a-f]{8}$`)
	staleDir   = regexp.MustCompile(`^sbmpsim-real-([0-9]+)-[0-9]+$`)
)

// sweepStale removes the cgroups and temporary directories of runs whose
// process no longer exists, and returns what it removed. A cgroup with a
// process in it is left alone (it is someone's), as is anything whose
// run is alive.
func sweepStale(h *Host) ([]string, error) {
	var removed []string
	var errs []error
	deadline := time.Now().Add(teardownTimeout)
	fs := cgroupFS{host: h.Cgroup}
	ents, _ := os.ReadDir(h.Cgroup.Mount)
	for _, e := range ents {
		if m := staleGroup.FindStringSubmatch(e.Name()); e.IsDir() && m != nil && !processExists(m[1]) {
			dir := filepath.Join(h.Cgroup.Mount, e.Name())
			if err := removeTree(fs, dir, deadline); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, dir)
		}
	}
	ents, _ = os.ReadDir(h.TempDir)
	for _, e := range ents {
		if m := staleDir.FindStringSubmatch(e.Name()); e.IsDir() && m != nil && !processExists(m[1]) {
			dir := filepath.Join(h.TempDir, e.Name())
			if swap := filepath.Join(dir, "swapfile"); swapActive(swap) {
				if err := (&swapFile{path: swap, on: true}).remove(deadline); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			if err := os.RemoveAll(dir); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, dir)
		}
	}
	return removed, errors.Join(errs...)
}

// processExists reports whether a process of that pid exists.
func processExists(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return true // not ours to judge: leave it
	}
	return !errors.Is(syscall.Kill(n, 0), syscall.ESRCH)
}

// removeTree removes a cgroup and the cgroups below it, deepest first,
// provided none holds a process.
func removeTree(fs cgroupFS, dir string, deadline time.Time) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			if procs, err := fs.read(p, "cgroup.procs"); err == nil && strings.TrimSpace(procs) != "" {
				return fmt.Errorf("stale cgroup %s still holds processes %s; left alone", p, strings.Join(strings.Fields(procs), " "))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := fs.remove(dirs[i], deadline); err != nil {
			return err
		}
	}
	return nil
}
