// Package transfer is the transfer canonical experiment: the default
// scenario run at node sizes from 512 MiB up to the largest the kernel
// model holds, with every memory size and every rate scaled by the same
// factor (Scale), to say whether a result at the simulated size carries
// over to a host's size, and from which size on it stops changing.
package transfer

// baseScenario is the embedded scenario the experiment scales.
const baseScenario = "oom-crisis"
