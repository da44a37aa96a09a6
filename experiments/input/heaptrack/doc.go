// Package heaptrack reads heaptrack trace files so that a simulator can
// replay the allocations and frees they record.
//
// A trace is the file heaptrack writes (NAME.zst, or NAME.gz from old
// versions, or the same text uncompressed). It is the "interpreted" line
// format produced by heaptrack_interpret: one record per line, a type
// character, a space, then space-separated lowercase hexadecimal fields.
// The lines this package understands are those heaptrack 1.4.0 writes and
// its analyzer (src/analyze/accumulatedtracedata.cpp) reads:
//
//	v HEAPTRACK_VERSION [FILE_VERSION]  version; file versions 0 to 3
//	X ARGS...                           debuggee command line (at most once)
//	I PAGE_SIZE PHYS_PAGES              system information
//	S TEXT                              embedded leak suppression
//	s LEN TEXT (version 3) / s TEXT     interned string, numbered from 1
//	i IP MODULE [FN [FILE LINE [FN FILE LINE]...]]
//	                                    instruction pointer, numbered from 1
//	t IP_INDEX PARENT_TRACE             trace node, numbered from 1
//	a SIZE TRACE                        allocation info, numbered from 0
//	+ INFO                              allocation of SIZE bytes of info INFO
//	- INFO                              free of one allocation of info INFO
//	c MS                                elapsed time in milliseconds
//	R PAGES                             resident set size in pages
//	A                                   heaptrack attached to a running process
//	# ...                               comment; empty lines are skipped too
//
// Version 0 files (written before heaptrack 1.0) have "+ SIZE TRACE PTR" and
// "- PTR" instead of allocation infos; the Reader assigns info indices to
// them the way heaptrack does, so a replay sees the same Op stream.
//
// The Reader is stricter than heaptrack about syntax: heaptrack logs a
// malformed line to stderr and goes on, which silently changes its totals;
// the Reader stops with an *Error naming the line. Where heaptrack accepts
// a well-formed line whose meaning is odd (a free of an info with no live
// allocation, a version-0 free of an unknown pointer), the Reader accepts it
// too and counts it in Tolerated.
package heaptrack
