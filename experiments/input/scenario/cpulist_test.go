package scenario

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"0", []int{0}},
		{"0-3,8", []int{0, 1, 2, 3, 8}},
		{"8,0-3", []int{0, 1, 2, 3, 8}},
		{"0-7,16,18-19", []int{0, 1, 2, 3, 4, 5, 6, 7, 16, 18, 19}},
		{"3,3,1-3", []int{1, 2, 3}},
		{" 1 , 2 ", []int{1, 2}},
		{"5-5", []int{5}},
		{"0-15:2/4", []int{0, 1, 4, 5, 8, 9, 12, 13}},
		{"0-6:1/3", []int{0, 3, 6}},
		{"8191", []int{8191}},
	}
	for _, tt := range tests {
		got, err := ParseCPUList(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	all, err := ParseCPUList("0-8191")
	if err != nil || len(all) != MaxCPU+1 {
		t.Errorf("ParseCPUList(0-8191) = %d CPUs, %v", len(all), err)
	}
}

func TestParseCPUListErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty cpulist"},
		{"  ", "empty cpulist"},
		{"a", `"a" is not a CPU number`},
		{"3-1", `range "3-1" ends before it starts`},
		{"1,", "empty item"},
		{",1", "empty item"},
		{"1,,2", "empty item"},
		{"-1", `"" is not a CPU number`},
		{"1-", `"" is not a CPU number`},
		{"1-2-3", `"2-3" is not a CPU number`},
		{"+1", `"+1" is not a CPU number`},
		{"0x1", `"0x1" is not a CPU number`},
		{"8192", "CPU 8192 is out of range 0..8191"},
		{"99999999999999999999999", "out of range"},
		{"1:1/2", "needs a range"},
		{"0-7:2", "must be USED/GROUP"},
		{"0-7:3/2", "1 <= USED <= GROUP"},
		{"0-7:0/2", "1 <= USED <= GROUP"},
		{strings.Repeat("1,", MaxCPU+1) + "1", "more than the 8192 CPUs"},
	}
	for _, tt := range tests {
		got, err := ParseCPUList(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.want)
		}
	}
}
