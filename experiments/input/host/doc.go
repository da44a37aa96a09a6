// Package host reads a live host or its text dumps into the models' types.
// For model/numa it reads the NUMA topology (numa.Topology) from the text
// of `numactl --hardware` (ParseNumactl, and FormatNumactl back) or from
// a sysfs tree (ReadSysfs). For model/kernel it reads the memory
// management state from /proc and /sys: the vm sysctls (ReadSettings),
// /proc/zoneinfo (ReadZoneinfo, ParseZoneinfo), /proc/meminfo
// (ReadMeminfo) and the processes (ReadTask, ListPIDs), and Snapshot sets
// what the kernel reports next to what the model computes from the same
// inputs (watermarks, lowmem reserves, pagesets, oom_score), for
// `sbmpsim import host` and for the tests that check the model against
// the live kernel.
//
// Readers take a root directory, "/" on a live host and a fake tree in
// tests, so that `sbmpsim import host --root DIR` reads a copied tree the
// same way. The rules that turn what is read into a model (sockets from
// package ids or distances, Linux's default distances, watermark and
// oom_score formulas) belong to the models; this package reads files and
// calls them, so that the models do no I/O. Nothing here is used by a
// simulation run.
package host
