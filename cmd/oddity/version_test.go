package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oddity-ml/oddity/kernels"
)

// runRoot runs the command line args and returns its standard output and
// error output.
func runRoot(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errOut)
	rootCmd.SetArgs(args)
	defer func() {
		rootCmd.SetOut(nil)
		rootCmd.SetErr(nil)
		rootCmd.SetArgs(nil)
	}()
	resetFlags(rootCmd)
	err = rootCmd.Execute()
	return out.String(), errOut.String(), err
}

// The Go version the binary was built with (what build information
// records; runtime.Version otherwise).
func builtWith() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.GoVersion != "" {
		return bi.GoVersion
	}
	return runtime.Version()
}

// `oddity version` names the Go version, the platform and the SGEMM
// kernels; with --json it is one JSON object with the same facts.
func TestVersion(t *testing.T) {
	out, _, err := runRoot(t, "version", "--json=false")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"oddity ", builtWith(), runtime.GOOS + "/" + runtime.GOARCH, kernels.Level()} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runRoot(t, "version", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if v.GoVersion != builtWith() || v.OS != runtime.GOOS || v.Arch != runtime.GOARCH || v.Kernels != kernels.Level() || v.Version == "" {
		t.Errorf("version --json: %+v", v)
	}
	// The raw object uses the documented keys.
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "go_version", "os", "arch", "sgemm_kernels"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("version --json has no %q: %s", k, out)
		}
	}
}

// resetFlags puts every flag of c and its subcommands back to its default:
// cobra keeps values and Changed marks between in-process runs, so one
// test's flags would otherwise leak into the next.
func resetFlags(c *cobra.Command) {
	reset := func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			_ = sv.Replace(nil)
		} else {
			_ = f.Value.Set(f.DefValue)
		}
		f.Changed = false
	}
	c.Flags().VisitAll(reset)
	c.PersistentFlags().VisitAll(reset)
	// Cobra keeps the context of the last ExecuteContext in every command
	// it ran (and hands the root's to a command whose own is unset): a
	// test that ran `serve` with a context it then cancelled would leave
	// every later command running cancelled.
	var none context.Context
	c.SetContext(none)
	for _, sub := range c.Commands() {
		resetFlags(sub)
	}
}
