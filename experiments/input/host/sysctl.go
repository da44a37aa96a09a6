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
	return s, nil
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
