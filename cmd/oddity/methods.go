package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/detector"
	_ "github.com/oddity-ml/oddity/detector/all" // every method
	"github.com/oddity-ml/oddity/option"
)

// methodListing is one method as `oddity methods --json` prints it.
type methodListing struct {
	Method  string         `json:"method"`
	Kind    string         `json:"kind"`
	Summary string         `json:"summary"`
	Options []option.Field `json:"options"`
	// Paper lists the options whose paper setting differs from the
	// default, with the paper's value.
	Paper map[string]string `json:"paper,omitempty"`
}

func listMethods() []methodListing {
	var out []methodListing
	for _, in := range detector.Infos() {
		l := methodListing{Method: in.Method, Kind: in.Kind.String(), Summary: in.Summary, Options: option.Fields(in.Options())}
		if in.Paper != nil {
			p := option.Values(in.Paper())
			for _, f := range l.Options {
				if v, ok := p[f.Name]; ok && v != f.Value {
					if l.Paper == nil {
						l.Paper = map[string]string{}
					}
					l.Paper[f.Name] = v
				}
			}
		}
		out = append(out, l)
	}
	return out
}

func init() {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "methods [METHOD...]",
		Short: "List every detector with its kind and its options (defaults, and the paper's where it differs)",
		Example: `  oddity methods
  oddity methods iforest dplan
  oddity methods --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			all := listMethods()
			if len(args) > 0 {
				var sel []methodListing
				for _, a := range args {
					if _, err := detector.Lookup(a); err != nil {
						return err
					}
					for _, l := range all {
						if l.Method == a {
							sel = append(sel, l)
						}
					}
				}
				all = sel
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(all)
			}
			out := cmd.OutOrStdout()
			for i, l := range all {
				if i > 0 {
					fmt.Fprintln(out)
				}
				fmt.Fprintf(out, "%s (%s): %s\n", l.Method, l.Kind, l.Summary)
				w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				for _, f := range l.Options {
					paper := ""
					if v, ok := l.Paper[f.Name]; ok {
						paper = " (paper: " + v + ")"
					}
					names := "--" + f.Name
					if len(f.Aliases) > 0 {
						names += " (also --" + strings.Join(f.Aliases, ", --") + ")"
					}
					rng := ""
					if f.Range != "" {
						rng = " [" + f.Range + "]"
					}
					fmt.Fprintf(w, "  %s %s\t%s%s\tdefault %s%s\n", names, f.Type, f.Help, rng, f.Value, paper)
				}
				if err := w.Flush(); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the listing as JSON")
	rootCmd.AddCommand(cmd)
}
