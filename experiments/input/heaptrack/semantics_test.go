package heaptrack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// semanticsCase is a small hand-written trace that exercises one corner of
// heaptrack_print's accounting, with the Summary worked out by hand (the
// reasoning is in the comments). When heaptrack_print is installed, the
// live test checks that it prints the same.
type semanticsCase struct {
	name string
	text string
	want Summary
}

var semanticsCases = []semanticsCase{
	{
		// heap 64, 0, -64 (unmatched free: heaptrack still subtracts), -48.
		// Both frees are temporary: the first follows "+ 0", the second
		// is "- 0" after a free, when heaptrack's marker is back at 0.
		name: "unmatched-free",
		text: `v 10400 3
X prog
I 1000 100
s 4 main
i 1000 0 1
t 1 0
a 40 1
a 10 1
+ 0
- 0
- 0
+ 1
c 5
R 3
`,
		want: Summary{Calls: 2, Temporary: 2, PeakBytes: 64, LeakedBytes: -48, LiveBytes: 16,
			DurationMs: 6, PeakRSSBytes: 3 * 0x1000,
			Tolerated: Tolerated{UnmatchedFrees: 1, UnmatchedFreeBytes: 64}},
	},
	{
		// Traces 3 (under dl_open_worker, a built-in suppression) and 4
		// (an inlined frame matching the embedded "leak:my_leaky") are
		// suppressed: 256 + 32 bytes. "S 12 leak:ignored" is how
		// heaptrack 1.4 itself writes suppressions and yields nothing.
		// heap 256, 288, 320, 288, 296, 297.
		name: "suppressions",
		text: `v 10400 3
S leak:my_leaky
S 12 leak:ignored
s 4 main
s e dl_open_worker
s 8 my_leaky
s 5 other
i 1000 0 1
i 2000 0 2
i 3000 0 4 0 0 3 0 7
i 4000 0 4
t 1 0
t 2 1
t 4 2
t 3 1
t 4 1
a 100 3
a 20 4
a 8 5
a 1 0
+ 0
+ 1
+ 1
- 1
+ 2
+ 3
c 14
`,
		want: Summary{Calls: 5, Temporary: 1, PeakBytes: 320, LeakedBytes: 9, SuppressedBytes: 288,
			LiveBytes: 297, DurationMs: 21},
	},
	{
		// File version 0: sizes on "+" lines, pointers on "-" lines. The
		// first and third allocations share an info. "- dead" frees an
		// unknown pointer and is skipped; the free before it reset the
		// temporary marker, so "- 7f00" is not temporary.
		// heap 64, 80, 144, 80, 16.
		name: "version0",
		text: `v 10100
s main
i 1000 0 1
t 1 0
+ 40 1 7f00
+ 10 1 7f10
+ 40 1 7f20
- 7f20
- dead
- 7f00
c 3
`,
		want: Summary{Calls: 3, Temporary: 1, PeakBytes: 144, LeakedBytes: 16, LiveBytes: 16,
			DurationMs: 4, Tolerated: Tolerated{UnknownPointerFrees: 1}},
	},
	{
		// "v 10200" alone means file version 1, with strings up to the end
		// of the line. heaptrack 1.4 reads in two passes and resets its
		// totals at "A" only in the first, so "A" changes nothing printed.
		// heap 32, 64, 32, 64; the peak of 64 is first reached at 2 ms.
		name: "version1-attach",
		text: `v 10200
s main
s operator new(unsigned long)
i 1000 0 1
i 2000 0 2
t 1 0
t 2 1
a 20 2
c 1
+ 0
c 2
+ 0
- 0
A
+ 0
c a
`,
		want: Summary{Calls: 3, Temporary: 1, PeakBytes: 64, PeakTimeMs: 2, LeakedBytes: 64,
			LiveBytes: 64, DurationMs: 11, Attached: true},
	},
	{
		// Comments, empty lines and a last line without a newline.
		name: "comments",
		text: "# a comment\n\nv 10400 3\na 8 0\n# strings: 0\n+ 0\nc 7",
		want: Summary{Calls: 1, PeakBytes: 8, LeakedBytes: 8, LiveBytes: 8, DurationMs: 8},
	},
	{
		name: "empty",
		text: "",
		want: Summary{DurationMs: 1},
	},
}

func summarizeString(t *testing.T, name, text string) Summary {
	t.Helper()
	r, err := NewReader(strings.NewReader(text), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := Summarize(r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSummarizeSemantics(t *testing.T) {
	for _, tc := range semanticsCases {
		t.Run(tc.name, func(t *testing.T) {
			got := summarizeString(t, tc.name, tc.text)
			if got != tc.want {
				t.Errorf("Summarize =\n%+v\nwant\n%+v", got, tc.want)
			}
			if live := got.LeakedBytes + got.SuppressedBytes + int64(got.Tolerated.UnmatchedFreeBytes); live != got.LiveBytes {
				t.Errorf("LiveBytes %d != leaked + suppressed + unmatched frees %d", got.LiveBytes, live)
			}
		})
	}
}

func TestSummarizeSemanticsMatchLiveHeaptrackPrint(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range semanticsCases {
		t.Run(tc.name, func(t *testing.T) {
			// heaptrack_print picks its decompressor by file name; .txt
			// is read as plain text.
			path := filepath.Join(dir, tc.name+".txt")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			comparePrinted(t, runHeaptrackPrint(t, path), summarizeString(t, tc.name, tc.text))
		})
	}
}
