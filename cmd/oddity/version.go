package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/kernels"
)

// versionInfo is what `oddity version` reports: the build (module version,
// VCS state, toolchain) and the machine code the engine chose at start-up.
type versionInfo struct {
	// Version is the module version the binary was built at, "(devel)" for
	// a build from a checkout.
	Version string `json:"version"`
	Module  string `json:"module,omitempty"`
	// Revision, RevisionTime and Modified come from the VCS stamp `go
	// build` records in a checkout (absent with -buildvcs=false).
	Revision     string `json:"revision,omitempty"`
	RevisionTime string `json:"revision_time,omitempty"`
	Modified     *bool  `json:"modified,omitempty"`
	GoVersion    string `json:"go_version"`
	OS           string `json:"os"`
	Arch         string `json:"arch"`
	CPUs         int    `json:"cpus"`
	// Kernels names the SGEMM implementation in use ("avx512", "avx2" or
	// "go"), as benchmark reports record it (kernels.Level).
	Kernels string `json:"sgemm_kernels"`
}

// buildVersion gathers the version report from the binary's build
// information and the running engine.
func buildVersion() versionInfo {
	v := versionInfo{Version: "(devel)", GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), Kernels: kernels.Level()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	v.Module = bi.Main.Path
	if bi.GoVersion != "" {
		v.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.RevisionTime = s.Value
		case "vcs.modified":
			if b, err := strconv.ParseBool(s.Value); err == nil {
				v.Modified = &b
			}
		}
	}
	return v
}

func printVersion(w io.Writer, v versionInfo) {
	fmt.Fprintf(w, "oddity %s\n", v.Version)
	if v.Module != "" {
		fmt.Fprintf(w, "  module    %s\n", v.Module)
	}
	if v.Revision != "" {
		rev := v.Revision
		if v.RevisionTime != "" {
			rev += " (" + v.RevisionTime + ")"
		}
		if v.Modified != nil && *v.Modified {
			rev += ", with uncommitted changes"
		}
		fmt.Fprintf(w, "  revision  %s\n", rev)
	}
	fmt.Fprintf(w, "  go        %s\n", v.GoVersion)
	fmt.Fprintf(w, "  platform  %s/%s, %d CPUs\n", v.OS, v.Arch, v.CPUs)
	fmt.Fprintf(w, "  sgemm     %s kernels\n", v.Kernels)
}

func init() {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, build and SGEMM kernels of this oddity",
		Long: `Version prints the module version oddity was built at ("(devel)" for a
build from a checkout), the VCS revision, its time and whether the tree had
uncommitted changes (when the build recorded them), the Go version, the
operating system and architecture, and the SGEMM kernels the engine picked
for this CPU (avx512, avx2 or go). Include it in bug reports.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildVersion()
			out := cmd.OutOrStdout()
			if !asJSON {
				printVersion(out, v)
				return nil
			}
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rootCmd.AddCommand(cmd)
}
