package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// This file reads the vm sysctls of /proc/sys/vm that the kernel model
// takes as settings.

// Settings are the vm sysctls the model uses.
type Settings struct {
	Swappiness            int64 `json:"swappiness"`
	OOMKillAllocatingTask int64 `json:"oom_kill_allocating_task"`
	MinFreeKbytes         int64 `json:"min_free_kbytes"`
	WatermarkScaleFactor  int64 `json:"watermark_scale_factor"`
	// LowmemReserveRatio is vm.lowmem_reserve_ratio, one value per zone
	// type; the kernel default when the file is absent.
	LowmemReserveRatio []int64 `json:"lowmem_reserve_ratio"`
	// PercpuPagelistHighFraction is vm.percpu_pagelist_high_fraction (0,
	// the default, when absent).
	PercpuPagelistHighFraction int64 `json:"percpu_pagelist_high_fraction"`
	// CompactionProactiveness and ExtfragThreshold are
	// vm.compaction_proactiveness and vm.extfrag_threshold (the kernel's
	// defaults, 20 and 500, when absent: a kernel without
	// CONFIG_COMPACTION has neither).
	CompactionProactiveness int64 `json:"compaction_proactiveness"`
	ExtfragThreshold        int64 `json:"extfrag_threshold"`
	// THPEnabled and THPDefrag are the selected values of
	// /sys/kernel/mm/transparent_hugepage/enabled and defrag ("never"
	// when the kernel has no THP).
	THPEnabled string `json:"thp_enabled"`
	THPDefrag  string `json:"thp_defrag"`
}

// ReadSettings reads the vm sysctls under root/proc/sys/vm.
func ReadSettings(root string) (Settings, error) {
	var s Settings
	required := []struct {
		name string
		dst  *int64
	}{
		{"swappiness", &s.Swappiness},
		{"oom_kill_allocating_task", &s.OOMKillAllocatingTask},
		{"min_free_kbytes", &s.MinFreeKbytes},
		{"watermark_scale_factor", &s.WatermarkScaleFactor},
	}
	for _, r := range required {
		v, err := readInts(filepath.Join(root, "proc/sys/vm", r.name))
		if err != nil || len(v) != 1 {
			return s, fmt.Errorf("read vm.%s: %w", r.name, errOr(err, "want one integer"))
		}
		*r.dst = v[0]
	}
	def := kernel.DefaultLowmemReserveRatio()
	s.LowmemReserveRatio = def[:]
	if v, err := readInts(filepath.Join(root, "proc/sys/vm/lowmem_reserve_ratio")); err == nil {
		s.LowmemReserveRatio = v
	} else if !errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("read vm.lowmem_reserve_ratio: %w", err)
	}
	if v, err := readInts(filepath.Join(root, "proc/sys/vm/percpu_pagelist_high_fraction")); err == nil && len(v) == 1 {
		s.PercpuPagelistHighFraction = v[0]
	}
	for _, o := range []struct {
		name string
		dst  *int64
		def  int64
	}{{"compaction_proactiveness", &s.CompactionProactiveness, 20}, {"extfrag_threshold", &s.ExtfragThreshold, 500}} {
		*o.dst = o.def
		if v, err := readInts(filepath.Join(root, "proc/sys/vm", o.name)); err == nil && len(v) == 1 {
			*o.dst = v[0]
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return s, fmt.Errorf("read vm.%s: %w", o.name, err)
		}
	}
	var err error
	if s.THPEnabled, err = readTHPMode(root, "enabled"); err != nil {
		return s, err
	}
	if s.THPDefrag, err = readTHPMode(root, "defrag"); err != nil {
		return s, err
	}
	return s, nil
}

// readTHPMode reads the selected value of
// /sys/kernel/mm/transparent_hugepage/NAME, the word in brackets of a
// line such as "always [madvise] never"; "never" when the kernel has no
// THP.
func readTHPMode(root, name string) (string, error) {
	path := filepath.Join(root, "sys/kernel/mm/transparent_hugepage", name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "never", nil
	}
	if err != nil {
		return "", fmt.Errorf("read transparent_hugepage/%s: %w", name, err)
	}
	mode, err := ParseTHPMode(string(b))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return mode, nil
}

// ParseTHPMode returns the selected word, in brackets, of a
// transparent_hugepage setting such as "always defer [madvise] never".
func ParseTHPMode(text string) (string, error) {
	sel := ""
	for _, f := range strings.Fields(text) {
		if len(f) > 2 && f[0] == '[' && f[len(f)-1] == ']' {
			if sel != "" {
				return "", fmt.Errorf("two selected values, %s and %s", sel, f[1:len(f)-1])
			}
			sel = f[1 : len(f)-1]
		}
	}
	if sel == "" {
		return "", fmt.Errorf("no selected value (in brackets) in %q", strings.TrimSpace(text))
	}
	return sel, nil
}

// errOr returns err, or a new error with msg when err is nil.
func errOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

// readInts reads a file of whitespace-separated decimal integers.
func readInts(path string) ([]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, f := range strings.Fields(string(b)) {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, v)
	}
	return out, nil
}
