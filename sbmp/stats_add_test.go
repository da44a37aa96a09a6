package sbmp

import (
	"reflect"
	"testing"
)

// TestStatsAddCoversEveryField fills every counter of two Stats with
// distinct values and checks that Add sums each one (the maximum for
// MergeDelayMaxNs), so that a counter added later cannot be forgotten.
func TestStatsAddCoversEveryField(t *testing.T) {
	var a, b Stats
	av, bv := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range av.NumField() {
		av.Field(i).SetInt(int64(i + 1))
		bv.Field(i).SetInt(int64(100 * (i + 1)))
	}
	sum := a
	sum.Add(b)
	sv := reflect.ValueOf(sum)
	for i := range sv.NumField() {
		name := sv.Type().Field(i).Name
		want := int64(101 * (i + 1))
		if name == "MergeDelayMaxNs" {
			want = int64(100 * (i + 1))
		}
		if got := sv.Field(i).Int(); got != want {
			t.Errorf("%s = %d after Add, want %d", name, got, want)
		}
	}
}
