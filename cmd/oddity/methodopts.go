package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// methodSettings are the --set flags of a command that runs several
// methods (or one named by an argument): METHOD.OPTION=VALUE, or
// OPTION=VALUE when the command runs one method. Each option keeps the
// name its package declares (`oddity methods` lists them), so no command
// spells a method's option itself.
type methodSettings struct {
	raw []string
}

func (s *methodSettings) bind(fs *pflag.FlagSet, usage string) {
	fs.StringArrayVar(&s.raw, "set", nil, usage)
}

// forMethod returns the settings addressed to method: "METHOD.NAME=V" for
// it, and "NAME=V" when bare is true. A malformed entry, or one for a
// method the command does not run (known), is an error.
func (s *methodSettings) forMethod(method string, bare bool, known []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range s.raw {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--set %q: want OPTION=VALUE or METHOD.OPTION=VALUE", kv)
		}
		m, name, dotted := strings.Cut(k, ".")
		if !dotted {
			if !bare {
				return nil, fmt.Errorf("--set %q: name the method, as METHOD.OPTION=VALUE (methods: %s)", kv, strings.Join(known, ", "))
			}
			out[k] = v
			continue
		}
		found := false
		for _, kn := range known {
			found = found || kn == m
		}
		if !found {
			return nil, fmt.Errorf("--set %q: method %q is not run here (methods: %s)", kv, m, strings.Join(known, ", "))
		}
		if m == method {
			out[name] = v
		}
	}
	return out, nil
}

// configure returns method's detector with its defaults, the settings and
// the seed (detector.Info.Configure), checking the settings first.
func configure(method string, settings map[string]string, seed uint64) (detector.Detector, error) {
	in, err := detector.Lookup(method)
	if err != nil {
		return nil, err
	}
	return in.Configure(settings, seed)
}

// bindMethodOptions binds in's options to fs and adds --paper when the
// method has paper settings. The returned function gives the options to
// run: the defaults (or the paper's with --paper) with the flags the user
// set, and the seed.
func bindMethodOptions(fs *pflag.FlagSet, in detector.Info) func(seed uint64) (any, error) {
	o := in.Options()
	option.Bind(fs, o)
	var paper bool
	if in.Paper != nil {
		fs.BoolVar(&paper, "paper", false, "start from the paper's settings instead of the defaults (`oddity methods "+in.Method+"` lists both); explicit option flags still apply")
	}
	return func(seed uint64) (any, error) {
		base := in.Options()
		if paper {
			base = in.Paper()
		}
		if err := option.Apply(base, option.Changed(fs, o)); err != nil {
			return nil, fmt.Errorf("%s: %w", in.Method, err)
		}
		option.SetSeed(base, seed)
		if _, err := in.New(base); err != nil {
			return nil, err
		}
		return base, nil
	}
}
