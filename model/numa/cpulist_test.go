package numa

import (
	"slices"
	"testing"
)

func TestFormatCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""}, {[]int{0}, "0"}, {[]int{0, 1}, "0-1"}, {[]int{0, 1, 2, 3, 8, 10, 11}, "0-3,8,10-11"}, {[]int{0, 8, 252, 253, 254, 255}, "0,8,252-255"},
	} {
		if got := FormatCPUList(tc.in); got != tc.want {
			t.Errorf("FormatCPUList(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseCPUList(tc.want)
		if err != nil || !slices.Equal(back, tc.in) {
			t.Errorf("ParseCPUList(%q) = %v, %v", tc.want, back, err)
		}
	}
	if got, err := ParseCPUList(" 0-15:2/4 ,31\n"); err != nil || !slices.Equal(got, []int{0, 1, 4, 5, 8, 9, 12, 13, 31}) {
		t.Errorf("strided list: %v, %v", got, err)
	}
	for _, bad := range []string{"1-0", "a", "0,", "8192", "0-3:5/4", "3:1/2"} {
		if _, err := ParseCPUList(bad); err == nil {
			t.Errorf("ParseCPUList(%q) accepted", bad)
		}
	}
}
