// Package numa models the machine underneath the simulated kernel: sockets,
// NUMA nodes (including memory-only nodes without CPUs, as tiered memory
// and GPU or HBM memory show up in Linux), the CPUs and memory of each node,
// the ACPI SLIT distance matrix that `numactl --hardware` prints, and a cost
// model that turns a node pair and the traffic on it into a memory access
// latency.
//
// A Topology is a plain value: build one from a preset (Preset) or from
// the plain fields of a scenario's [machine] section (FromSpec), and check
// it with Validate. The package does no I/O: experiments/input/host reads
// a topology from the text of `numactl --hardware` or from a live host's
// sysfs, using the rules here (InferSockets, PackageSockets,
// DefaultDistances). Queries never allocate on the
// paths the simulator calls per access (NodeOfCPU, Distance,
// IdleLatencyNs, LatencyNs); NodesByDistance and Zonelists build the
// fallback order the way Linux's build_zonelists does and are meant to be
// called once per run.
//
// All arithmetic is integer arithmetic, so results are the same on every
// platform (floating point may be fused differently by the compiler on some
// architectures, which would break the simulator's byte-identical output).
//
// Where the numbers come from is written next to each of them; the rules
// that derive latency and bandwidth for SLIT values nobody measured are in
// cost.go. SLIT ratios are not latency ratios (a 2-socket Xeon with SLIT 21,
// i.e. "2.1x", measures 1.84x with Intel MLC), so latencies are never
// computed as distance/10 times the local latency.
package numa
