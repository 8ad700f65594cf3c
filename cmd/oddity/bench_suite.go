package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/report"
	"github.com/oddity-ml/oddity/suite"
	"github.com/oddity-ml/oddity/suite/experiments"
	"github.com/oddity-ml/oddity/suite/results"
)

// `oddity bench --suite quick|full --out DIR` runs the benchmark suite and
// renders its report; `oddity bench report DIR` renders it again from
// DIR/results.json. The suite flags live on benchCmd itself (declared in
// main.go), so they are set up here rather than in a subcommand.
func init() {
	var (
		name, out string
		seed      uint64
		force     bool
		plan      bool
		only      []string
	)
	benchCmd.Long = `Without a subcommand, runs a benchmark suite: every method on its own
ground (its paper's data and protocol, beside the paper's figures), all
detectors on common ground, robustness sweeps, with time and memory.

Each finished cell is saved in DIR/cells/<id>.json and the whole run in
DIR/results.json after every cell, so an interrupted run (Ctrl-C) keeps what
it finished and running the same command again resumes: cached cells are
reused unless --force. A long image cell also keeps its finished seeds
(DIR/cells/<id>.seeds.json), so a stopped run resumes at the next seed.
When the run stops, finished or not, the report of every finished cell is
written to DIR/report.md and DIR/report.html (a self-contained page), with
plots under DIR/figures; an error or Ctrl-C is reported after that.

--only keeps the cells whose table or method name contains one of the
substrings, or, for a pattern TABLE/METHOD[/DATA], whose table, method and
data set contain those parts (an empty part matches all); if it matches no
cell, nothing runs and the command fails, listing the suite's tables and
methods.

--plan lists the selected cells the folder does not hold yet, with the
seeds a stopped run kept and the time each still needs by the seeds run so
far of its kind, and exits without running anything.

The report is made from results.json alone: 'oddity bench report DIR'
renders it again without running anything.

The quick suite runs subsets with short schedules in minutes (its report
says so on every table); the full suite runs the papers' settings.`
	benchCmd.Example = `  oddity bench --suite quick --out bench-quick
  oddity bench --suite full --out bench-full --seed 1
  oddity bench --suite quick --out bench-quick --only ganomaly,dplan-thyroid
  oddity bench --suite full --out bench-full --only common-mnist/ganomaly
  oddity bench --suite full --out bench-full --only deepcluster-clustering//usps
  oddity bench --suite full --out bench-full --plan      # what is left, and for how long
  oddity bench --suite quick --out bench-quick --force   # recompute cached cells
  oddity bench report bench-quick                        # re-render the report`
	benchCmd.Args = cobra.NoArgs
	f := benchCmd.Flags()
	f.StringVar(&name, "suite", "", "suite to run: quick or full")
	f.StringVar(&out, "out", "", "output folder (results.json, cells/, figures/, report.md, report.html)")
	f.Uint64Var(&seed, "seed", 0, "base seed the cells' seeds derive from")
	f.BoolVar(&force, "force", false, "recompute cells already cached in the output folder")
	f.BoolVar(&plan, "plan", false, "list the cells still to run and their estimated time, and exit")
	f.StringSliceVar(&only, "only", nil, "run only cells whose table or method contains one of these substrings, or TABLE/METHOD[/DATA] for each (comma-separated or repeated)")
	benchCmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if name == "" && out == "" && !cmd.Flags().Changed("only") {
			return cmd.Help() // a bare `oddity bench` lists the benchmarks
		}
		if name == "" {
			return errors.New("--suite is required (quick or full)")
		}
		if out == "" {
			return errors.New("--out is required: the folder for results.json and the report")
		}
		s, err := experiments.Named(name, seed)
		if err != nil {
			return err
		}
		if len(only) > 0 && !matchesAny(s.Specs, only) {
			return fmt.Errorf("--only %s matches no cell of the %s suite; its tables: %s; its methods: %s",
				strings.Join(only, ","), s.Name, listOrNone(specNames(s.Specs, func(sp results.Spec) string { return sp.Table })),
				listOrNone(specNames(s.Specs, func(sp results.Spec) string { return sp.Method })))
		}
		if plan {
			if force {
				return errors.New("--plan and --force: --plan runs nothing, so there is nothing to force")
			}
			return printPlan(cmd.OutOrStdout(), s, out, only)
		}
		if len(s.Specs) == 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "oddity: the %s suite has no cells yet; writing an empty report\n", s.Name)
		}
		_, err = runSuite(cmd, s, out, force, only)
		return err
	}

	cmd := &cobra.Command{
		Use:   "report DIR",
		Short: "Render report.md and report.html again from DIR/results.json",
		Long: `Reads DIR/results.json written by 'oddity bench --suite ... --out DIR' and
writes DIR/report.md, DIR/report.html and the plots under DIR/figures again,
without running anything: every number in the report comes from
results.json. Image files the cells list are read from DIR.`,
		Example: `  oddity bench report bench-quick`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			res, err := results.Read(filepath.Join(dir, "results.json"))
			if err != nil {
				return err
			}
			if err := report.Write(res, dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d cells: %s, %s\n", len(res.Cells),
				filepath.Join(dir, report.MarkdownFile), filepath.Join(dir, report.HTMLFile))
			return nil
		},
	}
	benchCmd.AddCommand(cmd)
}

// runSuite runs s into out and writes its report, also after an error or an
// interrupt (the report then covers the finished cells), and returns the
// results with the run's error.
func runSuite(cmd *cobra.Command, s suite.Suite, out string, force bool, only []string) (*results.Results, error) {
	res, runErr := suite.Run(cmd.Context(), s, suite.Options{Out: out, Force: force, Only: only,
		Log: cmd.ErrOrStderr(), Command: commandLine(os.Args)})
	if res == nil {
		return nil, runErr
	}
	if err := report.Write(res, out); err != nil {
		if runErr != nil {
			return res, fmt.Errorf("%w; writing the report of the finished cells also failed: %v", runErr, err)
		}
		return res, err
	}
	state := "report"
	if runErr != nil {
		state = "partial report (run stopped)"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%d cells, %s: %s, %s\n", len(res.Cells), state,
		filepath.Join(out, report.MarkdownFile), filepath.Join(out, report.HTMLFile))
	return res, runErr
}

// matchesAny reports whether --only keeps at least one spec.
func matchesAny(specs []results.Spec, only []string) bool {
	for _, s := range specs {
		if s.Selected(only) {
			return true
		}
	}
	return false
}

// specNames lists the distinct values of a spec field, sorted.
func specNames(specs []results.Spec, field func(results.Spec) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range specs {
		if v := field(s); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// commandLine records how the program was called, as "oddity ARGS", with
// arguments that a shell would split or expand quoted.
func commandLine(args []string) string {
	parts := []string{"oddity"}
	if len(args) > 1 {
		for _, a := range args[1:] {
			if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
				a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
			}
			parts = append(parts, a)
		}
	}
	return strings.Join(parts, " ")
}

// printPlan writes the cells of s that --only selects and out does not hold
// yet, one a line, and a summary with the estimated time left.
func printPlan(w io.Writer, s suite.Suite, out string, only []string) error {
	states := suite.Plan(s, out, only)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tMETHOD\tVARIANT\tTASK\tSEEDS KEPT\tTIME LEFT\tID")
	var cached, pending, unknown int
	var left float64
	for _, st := range states {
		if st.Cached {
			cached++
			continue
		}
		pending++
		est := "unknown"
		if st.EstimateSeconds < 0 {
			unknown++
		} else {
			left += st.EstimateSeconds
			est = approx(st.EstimateSeconds)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", st.Spec.Table, st.Spec.Method, orDash(st.Spec.Variant),
			st.Spec.Task, st.SeedsDone, max(1, len(st.Spec.Seeds)), est, st.ID)
	}
	if pending > 0 {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%s suite in %s: %d of %d selected cells cached, %d to run, about %s by the rates of the seeds run so far",
		s.Name, out, cached, len(states), pending, approx(left))
	if err == nil && unknown > 0 {
		_, err = fmt.Fprintf(w, " (%d cells of kinds with no seed run yet are not counted)", unknown)
	}
	if err == nil {
		_, err = fmt.Fprintln(w)
	}
	return err
}

// approx formats an estimated duration to the minute (to the second under
// one minute).
func approx(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	d = d.Round(time.Minute)
	if d < time.Hour {
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

// orDash returns s, or "-" when it is empty, for a table column.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
