package kernel

import "testing"

// TestKhugepagedRaisesMinFree: with THP enabled khugepaged raises
// vm.min_free_kbytes to set_recommended_min_free_kbytes's value, 11
// pageblocks per populated zone (2 + MIGRATE_PCPTYPES^2), at boot and
// above a user's smaller value; this host's 67584 kB is that value for its
// three zones (DMA, DMA32, Normal: 3 x 11 x 512 pages x 4 kB).
func TestKhugepagedRaisesMinFree(t *testing.T) {
	base := MachineConfig{NodePages: []int64{131072, 131072}, Zonelists: [][]int{{0, 1}, {1, 0}}}
	plain, err := NewMachine(base)
	if err != nil {
		t.Fatal(err)
	}
	withTHP := base
	withTHP.Khugepaged = true
	thp, err := NewMachine(withTHP)
	if err != nil {
		t.Fatal(err)
	}
	user := withTHP
	user.MinFreeKbytes = 8192
	raised, err := NewMachine(user)
	if err != nil {
		t.Fatal(err)
	}
	if got := plain.Config().MinFreeKbytes; got != 4096 {
		t.Errorf("without khugepaged: min_free_kbytes %d, want calculate_min_free_kbytes's 4096", got)
	}
	for _, m := range []*Machine{thp, raised} {
		if got := m.Config().MinFreeKbytes; got != 2*11*512*4 {
			t.Errorf("with khugepaged: min_free_kbytes %d, want %d", got, 2*11*512*4)
		}
	}
	if thp.Zone(0).Wmark.Min <= plain.Zone(0).Wmark.Min {
		t.Errorf("min watermark %d with khugepaged, %d without: want it raised", thp.Zone(0).Wmark.Min, plain.Zone(0).Wmark.Min)
	}
}
