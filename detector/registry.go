package detector

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/oddity-ml/oddity/option"
)

// ErrOption is wrapped by every error about a method's options: an unknown
// name, a malformed value, or a value Validate refuses. Each method's own
// sentinel (iforest.ErrOption, ...) wraps it, so errors.Is(err,
// detector.ErrOption) holds for all of them.
var ErrOption = option.ErrOption

// Kind says what data a method takes and what supervision it uses; a
// method has one data bit and one supervision bit.
type Kind uint8

// Kinds of method.
const (
	// Unsupervised methods learn from unlabelled (or normal-only) data.
	Unsupervised Kind = 1 << iota
	// WeaklySupervised methods also learn from a few labelled anomalies
	// (TrainSet.Anomalies). DPLAN and Deep SAD also train without any;
	// DevNet's deviation loss needs at least one, and Fit says so.
	WeaklySupervised
	// Tables marks methods that take rows of features.
	Tables
	// Images marks methods that take C×H×W images.
	Images
)

// String lists the kind's bits: "unsupervised, tables".
func (k Kind) String() string {
	var out []string
	for _, b := range []struct {
		k Kind
		s string
	}{{Unsupervised, "unsupervised"}, {WeaklySupervised, "weakly supervised"}, {Tables, "tables"}, {Images, "images"}} {
		if k&b.k != 0 {
			out = append(out, b.s)
		}
	}
	return strings.Join(out, ", ")
}

// Info describes a registered method: what it is, its options, and how to
// make one. Every method package registers one in init.
type Info struct {
	// Method is the name under which the method is registered and saved.
	Method string
	// Kind is the method's data and supervision.
	Kind Kind
	// Summary is one line: the method and its paper.
	Summary string
	// Options returns a pointer to a new copy of the method's
	// DefaultOptions (for example *iforest.Options), ready for option.Bind,
	// option.Apply and option.SetSeed.
	Options func() any
	// Paper returns a pointer to the method's PaperOptions where the paper's
	// settings differ from the defaults, or is nil.
	Paper func() any
	// New validates opts, a pointer of the type Options returns, and
	// returns an unfitted detector configured by it. Its errors wrap
	// ErrOption.
	New func(opts any) (Detector, error)
}

// Configure returns an unfitted detector of the method: its defaults,
// overridden by settings (option name to value, as flags spell them), with
// the given seed. An unknown option or a bad value is an error naming the
// option and the method.
func (in Info) Configure(settings map[string]string, seed uint64) (Detector, error) {
	o := in.Options()
	if err := option.Apply(o, settings); err != nil {
		return nil, fmt.Errorf("%s: %w", in.Method, err)
	}
	option.SetSeed(o, seed)
	// The method's own errors name it already ("iforest: bad option: ...").
	return in.New(o)
}

var (
	regMu    sync.RWMutex
	registry = map[string]Info{}
)

// Register makes a method known by name to the CLI, the benchmark runner,
// the server and model loading. Packages register in init; registering a
// name twice, or an Info without Options or New, panics.
func Register(in Info) {
	regMu.Lock()
	defer regMu.Unlock()
	if in.Method == "" || in.Options == nil || in.New == nil {
		panic("detector: Register needs Method, Options and New")
	}
	if _, dup := registry[in.Method]; dup {
		panic("detector: Register called twice for " + in.Method)
	}
	// The option table is checked now, so a malformed declaration fails
	// every test of the program rather than a user's command.
	option.Fields(in.Options())
	registry[in.Method] = in
}

// Lookup returns the registered method called name.
func Lookup(method string) (Info, error) {
	regMu.RLock()
	in, ok := registry[method]
	regMu.RUnlock()
	if !ok {
		return Info{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownMethod, method, strings.Join(Methods(), ", "))
	}
	return in, nil
}

// New returns an unfitted detector of a registered method with its default
// options; Unmarshal then restores a saved one.
func New(method string) (Detector, error) {
	in, err := Lookup(method)
	if err != nil {
		return nil, err
	}
	return in.New(in.Options())
}

// Methods lists the registered method names, sorted.
func Methods() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for m := range registry {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Infos returns every registered method, sorted by name.
func Infos() []Info {
	var out []Info
	for _, m := range Methods() {
		in, _ := Lookup(m)
		out = append(out, in)
	}
	return out
}

// Options is what a method's Options type provides: Validate, whose errors
// wrap ErrOption.
type Options interface {
	Validate() error
}

// Define builds a method's Info from its package's names: the
// DefaultOptions and (or nil) PaperOptions functions and the New
// constructor. A package registers with
//
//	func init() {
//		detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
//			"Isolation Forest (Liu, Ting and Zhou 2008)", DefaultOptions, nil, New))
//	}
func Define[O Options, D Detector](method string, kind Kind, summary string, defaults, paper func() O, newDetector func(O) D) Info {
	in := Info{
		Method:  method,
		Kind:    kind,
		Summary: summary,
		Options: func() any { o := defaults(); return &o },
		New: func(o any) (Detector, error) {
			p, ok := o.(*O)
			if !ok {
				return nil, fmt.Errorf("%w: %s takes %T options, got %T", ErrOption, method, p, o)
			}
			if err := (*p).Validate(); err != nil {
				return nil, err
			}
			return newDetector(*p), nil
		},
	}
	if paper != nil {
		in.Paper = func() any { o := paper(); return &o }
	}
	return in
}
