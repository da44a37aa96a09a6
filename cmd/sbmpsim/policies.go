package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/policies"
)

func newPoliciesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "policies",
		Short: "List SBMP's merge, refill and degrade policies with their parameters and defaults",
		Example: `  sbmpsim policies
  sbmpsim run --set policy.refill=adaptive-batch     # one of them, in a run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			var kind policies.Kind
			for _, s := range policies.List() {
				if s.Kind != kind {
					kind = s.Kind
					fmt.Fprintf(w, "%s policies (policy.%s = \"NAME\"):\n", kind, kind)
				}
				fmt.Fprintf(w, "  %s\n      %s\n", s.Name, wrap(s.Doc, 72, "      "))
				for _, p := range s.Params {
					typ := "number"
					if p.Integer {
						typ = "integer"
					}
					fmt.Fprintf(w, "      %-27s %s %s, default %s, range %s..%s: %s\n", policies.ParamKey(s.Kind, p.Name), typ, p.Unit, num(p.Default), num(p.Min), num(p.Max), p.Doc)
				}
			}
			return nil
		},
	}
}

// wrap folds text at width columns, indenting continuation lines.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	col := 0
	for i, word := range strings.Fields(text) {
		if i > 0 {
			if col+1+len(word) > width {
				b.WriteString("\n" + indent)
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
