package world_test

import (
	"context"
	"os"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/model/kernel"
)

func TestZZProf(t *testing.T) {
	name := os.Getenv("PROF_SCENARIO")
	if name == "" {
		t.Skip()
	}
	data, err := scenarios.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := world.Run(context.Background(), sc, world.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = kernel.PageSize
	t.Logf("events %d allocs %d", res.Summary.Events, res.Summary.Allocs+res.Summary.Frees)
}
