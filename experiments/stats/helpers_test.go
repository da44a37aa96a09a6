package stats

import (
	"errors"
	"math"
	"testing"
)

// near reports whether got is within tol of want (absolute).
func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// checkNear fails t when got is not within tol of want.
func checkNear(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !near(got, want, tol) {
		t.Errorf("%s = %.10g, want %.10g ± %g", what, got, want, tol)
	}
}

// checkErr fails t unless err wraps target.
func checkErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one wrapping %v", what, err, target)
	}
}

func nan() float64 { return math.NaN() }

func cdfNormal(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
