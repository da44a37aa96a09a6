// Package host reads a live host or its text dumps into the models' types:
// the NUMA topology (numa.Topology) from the text of `numactl --hardware`
// (ParseNumactl, and FormatNumactl back) or from a sysfs tree (ReadSysfs).
//
// Readers take a root directory, "/" on a live host and a fake tree in
// tests, so that `sbmpsim import host --root DIR` reads a copied tree the
// same way. The rules that turn what is read into a model (sockets from
// package ids or distances, Linux's default distances) belong to the
// models; this package reads files and calls them, so that the models do
// no I/O.
package host
