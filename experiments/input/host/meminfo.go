package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// This file reads /proc/meminfo and the "Key: value" files like it.

// Meminfo holds the /proc/meminfo lines the model uses, in kB.
type Meminfo struct {
	MemTotalKB  int64 `json:"mem_total_kb"`
	MemFreeKB   int64 `json:"mem_free_kb"`
	SwapTotalKB int64 `json:"swap_total_kb"`
	SwapFreeKB  int64 `json:"swap_free_kb"`
}

// ReadMeminfo reads root/proc/meminfo. MemTotal is required.
func ReadMeminfo(root string) (Meminfo, error) {
	var m Meminfo
	kv, err := readKeyValues(filepath.Join(root, "proc/meminfo"))
	if err != nil {
		return m, err
	}
	m.MemTotalKB, m.MemFreeKB = kv["MemTotal"], kv["MemFree"]
	m.SwapTotalKB, m.SwapFreeKB = kv["SwapTotal"], kv["SwapFree"]
	if _, ok := kv["MemTotal"]; !ok {
		return m, fmt.Errorf("%s: no MemTotal line", filepath.Join(root, "proc/meminfo"))
	}
	return m, nil
}

// TotalPages is totalram_pages + total_swap_pages as the OOM killer and
// proc_oom_score use it. MemTotal is totalram_pages in kB (si_meminfo),
// which on machines with deferred or lazily initialised memory exceeds the
// sum of the zones' managed pages; the live-host test checks that this
// is the value that reproduces /proc/PID/oom_score.
func (m Meminfo) TotalPages() int64 {
	return m.MemTotalKB/(kernel.PageSize/1024) + m.SwapTotalKB/(kernel.PageSize/1024)
}

// readKeyValues reads "Key:   123 kB" lines (meminfo, status) into a map
// of the first number on each line; lines without a number are skipped.
func readKeyValues(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseKeyValues(string(b)), nil
}

// parseKeyValues parses the text of a "Key: value" file.
func parseKeyValues(text string) map[string]int64 {
	kv := map[string]int64{}
	for _, line := range strings.Split(text, "\n") {
		key, rest, ok := strings.Cut(line, ":")
		f := strings.Fields(rest)
		if !ok || len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			kv[key] = v
		}
	}
	return kv
}
