package stats

import (
	"testing"
)

// Expected p-values are exact binomial tails computed by hand / in exact
// rational arithmetic (Python fractions with math.comb):
//   - 9 of 10 positive: 2·(1 + 10)/1024 = 0.021484375 (also R's
//     binom.test(9, 10)$p.value).
//   - 450 of 1000 positive: 0.0017305360849763176.
//   - 5 of 10 positive: p = 1 (doubling the tail exceeds 1).
func TestSignTest(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 5}
	b := []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5} // 9 positive, 1 negative, 1 tie
	r, err := SignTest(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Positive != 9 || r.Negative != 1 || r.Zero != 1 {
		t.Errorf("counts %+v", r)
	}
	checkNear(t, "p 9/10", r.P, 0.021484375, 1e-15)

	checkNear(t, "p 450/1000", binomialHalfTwoSided(450, 1000), 0.0017305360849763176, 1e-14)
	checkNear(t, "p 5/10", binomialHalfTwoSided(5, 10), 1, 0)
	checkNear(t, "p 0/0", binomialHalfTwoSided(0, 0), 1, 0)

	swapped, _ := SignTest(b, a)
	checkNear(t, "p symmetric", swapped.P, r.P, 0)

	_, err = SignTest([]float64{1}, nil)
	checkErr(t, "length", err, ErrMismatch)
}
