// Package catalog lists sbmpsim's canonical experiments, in the order
// of the report: what `sbmpsim experiment list | run` and `report` read.
// It imports every experiment package; the experiments and the framework
// they share (package canon) import none of it.
package catalog

import (
	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/canon/earlywarning"
	"github.com/sbmpsim/sbmpsim/experiments/canon/gogovernance"
	"github.com/sbmpsim/sbmpsim/experiments/canon/hotswap"
	"github.com/sbmpsim/sbmpsim/experiments/canon/kernelbypass"
	"github.com/sbmpsim/sbmpsim/experiments/canon/mergerefill"
	"github.com/sbmpsim/sbmpsim/experiments/canon/oomcrisis"
	"github.com/sbmpsim/sbmpsim/experiments/canon/oomprob"
	"github.com/sbmpsim/sbmpsim/experiments/canon/policyspace"
	"github.com/sbmpsim/sbmpsim/experiments/canon/tierbalance"
	"github.com/sbmpsim/sbmpsim/experiments/canon/transfer"
)

// All lists the canonical experiments in report order, the order of the
// numbers in their titles.
func All() []canon.Experiment {
	return []canon.Experiment{
		oomcrisis.Experiment(),
		tierbalance.Experiment(),
		oomprob.Experiment(),
		mergerefill.Experiment(),
		earlywarning.Experiment(),
		hotswap.Experiment(),
		kernelbypass.Experiment(),
		gogovernance.Experiment(),
		transfer.Experiment(),
		policyspace.Experiment(),
	}
}

// ReportSections lists the report's sections in order: the canonical
// experiments, then the validation (canon.ValidationSection).
func ReportSections() []canon.Experiment {
	return append(All(), canon.ValidationSection())
}

// Lookup finds an experiment by name.
func Lookup(name string) (canon.Experiment, bool) {
	for _, e := range All() {
		if e.Name == name {
			return e, true
		}
	}
	return canon.Experiment{}, false
}

// Names lists the experiments' names.
func Names() []string {
	var n []string
	for _, e := range All() {
		n = append(n, e.Name)
	}
	return n
}
