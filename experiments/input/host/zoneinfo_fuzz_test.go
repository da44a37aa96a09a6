package host

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseZoneinfo: any text either parses or gives an error naming a
// "zoneinfo line"; it never panics. Seeded with this repository's copy of
// a real /proc/zoneinfo and fragments of it.
func FuzzParseZoneinfo(f *testing.F) {
	real, err := os.ReadFile("testdata/fakehost/proc/zoneinfo")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(real))
	f.Add("Node 0, zone   Normal\n  pages free     1000\n        min      10\n        low      12\n        high     14\n")
	f.Add("Node 0, zone\n")
	f.Add("Node x, zone Normal\n        protection: (0, 1, a)\n")
	f.Add("Node 0, zone Normal\n  pagesets\n    cpu: 0\n              count: 9\n              high:  -3\n")
	f.Fuzz(func(t *testing.T, text string) {
		zones, err := ParseZoneinfo(strings.NewReader(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "zoneinfo line ") && !strings.Contains(err.Error(), "token too long") {
				t.Fatalf("error %q names no line", err)
			}
			return
		}
		for _, z := range zones {
			if z.Name == "" || z.Node < 0 {
				t.Fatalf("zone %+v parsed without a name or with a negative node", z)
			}
		}
	})
}
