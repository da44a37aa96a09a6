package heaptrack

import "testing"

func TestFormatBytes(t *testing.T) {
	cases := []struct {
		bytes int64
		want  string
	}{
		{0, "0B"},
		{999, "999B"},
		{1000, "1000B"}, // heaptrack divides only above 1000
		{1001, "1.00K"},
		{1005, "1.00K"}, // 1.005 is 1.00499... in binary
		{12268, "12.27K"},
		{667788, "667.79K"},
		{1229955, "1.23M"},
		{12451840, "12.45M"},
		{-48, "-48B"},
		{-1500, "-1.50K"},
		{1e15, "1000.00T"},
		{1e16, "10000.00T"}, // no unit above terabytes
	}
	for _, tc := range cases {
		if got := FormatBytes(tc.bytes); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.bytes, got, tc.want)
		}
	}
}
