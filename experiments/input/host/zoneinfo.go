package host

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// This file reads /proc/zoneinfo: each zone's size, the kernel's
// watermarks and reserves, and its per-CPU pagesets.

// PCP is one CPU's pageset of a zone as /proc/zoneinfo prints it.
type PCP struct {
	CPU     int   `json:"cpu"`
	Count   int64 `json:"count"`
	High    int64 `json:"high"`
	Batch   int64 `json:"batch"`
	HighMin int64 `json:"high_min"`
	HighMax int64 `json:"high_max"`
}

// Zone is one zone of /proc/zoneinfo.
type Zone struct {
	Node        int               `json:"node"`
	Name        string            `json:"zone"`
	FreePages   int64             `json:"free_pages"`
	Spanned     int64             `json:"spanned"`
	Present     int64             `json:"present"`
	Managed     int64             `json:"managed"`
	StartPFN    int64             `json:"start_pfn"`
	Wmark       kernel.Watermarks `json:"watermarks"`
	Protection  []int64           `json:"protection"`
	NrFreePages int64             `json:"nr_free_pages"`
	PCPs        []PCP             `json:"pcps,omitempty"`
}

// ParseZoneinfo parses the text of /proc/zoneinfo (mm/vmstat.c,
// zoneinfo_show_print). Unknown lines are ignored, so older and newer
// kernels parse; a malformed number is an error naming the line.
func ParseZoneinfo(r io.Reader) ([]Zone, error) {
	var zones []Zone
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "Node ") {
			z, err := parseZoneHeader(line)
			if err != nil {
				return nil, fmt.Errorf("zoneinfo line %d: %w", n, err)
			}
			zones = append(zones, z)
			continue
		}
		if len(zones) == 0 {
			continue
		}
		if err := parseZoneLine(&zones[len(zones)-1], strings.Fields(line)); err != nil {
			return nil, fmt.Errorf("zoneinfo line %d %q: %w", n, line, err)
		}
	}
	return zones, sc.Err()
}

// parseZoneHeader parses "Node 0, zone   Normal".
func parseZoneHeader(line string) (Zone, error) {
	var z Zone
	f := strings.Fields(strings.ReplaceAll(line, ",", " "))
	if len(f) != 4 || f[2] != "zone" {
		return z, fmt.Errorf("bad zone header %q", line)
	}
	node, err := strconv.Atoi(f[1])
	z.Node, z.Name = node, f[3]
	return z, err
}

// parseZoneLine fills one field of z from the words of a zoneinfo line.
func parseZoneLine(z *Zone, f []string) error {
	if len(f) < 2 {
		return nil
	}
	if f[0] == "protection:" {
		return parseProtection(z, f[1:])
	}
	if f[0] == "cpu:" {
		var cpu int64
		err := parseInt(f[1], &cpu)
		z.PCPs = append(z.PCPs, PCP{CPU: int(cpu)})
		return err
	}
	if f[0] == "pages" && f[1] == "free" && len(f) == 3 {
		return parseInt(f[2], &z.FreePages)
	}
	if dst := zoneField(z, f[0]); dst != nil && len(f) == 2 {
		return parseInt(f[1], dst)
	}
	return nil
}

// zoneField maps a zoneinfo key to the field it sets, or nil. The pageset
// keys apply to the CPU of the last "cpu:" line.
func zoneField(z *Zone, key string) *int64 {
	switch key {
	case "boost":
		return &z.Wmark.Boost
	case "min":
		return &z.Wmark.Min
	case "low":
		return &z.Wmark.Low
	case "high":
		return &z.Wmark.High
	case "promo":
		return &z.Wmark.Promo
	case "spanned":
		return &z.Spanned
	case "present":
		return &z.Present
	case "managed":
		return &z.Managed
	case "nr_free_pages":
		return &z.NrFreePages
	case "start_pfn:":
		return &z.StartPFN
	}
	return pcpField(z, key)
}

// pcpField maps a pageset key to the field of the last listed CPU.
func pcpField(z *Zone, key string) *int64 {
	if len(z.PCPs) == 0 {
		return nil
	}
	p := &z.PCPs[len(z.PCPs)-1]
	switch key {
	case "count:":
		return &p.Count
	case "high:":
		return &p.High
	case "batch:":
		return &p.Batch
	case "high_min:":
		return &p.HighMin
	case "high_max:":
		return &p.HighMax
	}
	return nil
}

// parseProtection parses "(0, 3018, 5066, 5066, 5066)".
func parseProtection(z *Zone, f []string) error {
	z.Protection = z.Protection[:0]
	for _, w := range f {
		var v int64
		if err := parseInt(strings.Trim(w, "(),"), &v); err != nil {
			return err
		}
		z.Protection = append(z.Protection, v)
	}
	return nil
}

func parseInt(s string, dst *int64) error {
	v, err := strconv.ParseInt(s, 10, 64)
	*dst = v
	return err
}

// ReadZoneinfo reads and parses root/proc/zoneinfo.
func ReadZoneinfo(root string) ([]Zone, error) {
	f, err := os.Open(filepath.Join(root, "proc/zoneinfo"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zones, err := ParseZoneinfo(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return zones, nil
}

// ModelZones converts parsed zones to model zones (spans and page counts;
// watermarks and reserves are left for kernel.SetupWatermarks and
// kernel.SetupLowmemReserve to compute).
func ModelZones(hz []Zone) ([]kernel.Zone, error) {
	zones := make([]kernel.Zone, len(hz))
	for i, h := range hz {
		t, ok := kernel.ParseZoneType(h.Name)
		if !ok {
			return nil, fmt.Errorf("node %d: unknown zone type %q", h.Node, h.Name)
		}
		zones[i] = kernel.Zone{Node: h.Node, Type: t, StartPFN: h.StartPFN,
			SpannedPages: h.Spanned, PresentPages: h.Present, ManagedPages: h.Managed}
	}
	return zones, nil
}
