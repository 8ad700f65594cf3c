package experiments

// The tabular cells: DPLAN and its baselines on their own ground (DPLAN's
// UCI thyroid protocol, the ADBench protocol), every tabular detector on
// common ground, and the labelled-anomaly sweep.
//
// A cell's settings travel in Spec.Params as strings under the names of the
// CLI flags (the names each method's package declares; the protocol's "known-class",
// "labeled-ratio", ...). The spec builders record every setting, defaults
// included, so a change of a package default changes the cell's hash and the
// cell is recomputed rather than served stale from the cache. The executor
// parses the same strings back with pflag, so a cell can be re-run from its
// results.json entry alone.

import (
	"github.com/oddity-ml/oddity/suite/results"

	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	_ "github.com/oddity-ml/oddity/detector/all" // every method
	"github.com/oddity-ml/oddity/dplan"
	"github.com/oddity-ml/oddity/evaluate"
	"github.com/oddity-ml/oddity/option"
	"github.com/oddity-ml/oddity/suite"
)

// The tabular tables.
const (
	tableDPLANThyroid  = "dplan-thyroid"
	tableDPLANADBench  = "dplan-adbench"
	tableCommonTabular = "common-tabular"
	tableRobustLabels  = "robustness-labels"
)

func init() {
	for _, t := range []string{tableDPLANThyroid, tableDPLANADBench, tableCommonTabular, tableRobustLabels} {
		suite.Register(t, runTabular)
	}
}

// tabADBenchFiles are the 21 ADBench files of the DPLAN comparison, in the
// order of their numeric prefixes.
var tabADBenchFiles = []string{
	"2_annthyroid", "4_breastw", "6_cardio", "10_cover", "12_fault", "14_glass", "19_landsat",
	"20_letter", "23_mammography", "26_optdigits", "27_PageBlocks", "28_pendigits", "29_Pima",
	"30_satellite", "32_shuttle", "35_SpamBase", "38_thyroid", "40_vowels", "41_Waveform",
	"42_WBC", "44_Wilt",
}

// tabQuickFiles are small ADBench files (214 to 3,772 rows) for the quick
// suite: a few seconds per method each.
var tabQuickFiles = []string{"6_cardio", "14_glass", "29_Pima", "38_thyroid"}

// tabFullCommon are the files of the full suite's common-ground table: the
// quick files plus four of other sizes and kinds.
var tabFullCommon = []string{"2_annthyroid", "6_cardio", "14_glass", "23_mammography", "29_Pima", "30_satellite", "38_thyroid", "44_Wilt"}

// tabRobustLabeled is the labelled-anomaly sweep (DPLAN's default is 60).
var tabRobustLabeled = []int{1, 5, 10, 30, 60, 120}

// Seeds per cell in the full suite: DPLAN's paper reports 5 runs; ADBench's
// protocol uses 3 seeds (docs/methods.md §5).
const (
	tabSeedsThyroid = 5
	tabSeedsADBench = 3
)

// tabNotApplicable names the detectors that cannot run on flat tabular
// rows, and why. The common-ground table lists them with this note and no
// measures, so the report can say why their row is empty.
var tabNotApplicable = map[string]string{
	"ganomaly":    "not applicable: convolutional encoder-decoder-encoder, images only (needs C×S×S input)",
	"deepcluster": "not applicable: the DCEC convolutional autoencoder takes square images only (deepcluster rejects flat rows)",
}

// tabQuickOverrides shorten schedules in the quick suite, by method (a
// cell's Note lists every setting that differs from the method's
// defaults). It is empty: measured on 2 cores, the quick suite's tabular
// part (one seed, four small files) runs in well under a minute with every
// method at its defaults (DPLAN's 10 × 2,000 steps take about half a
// second on UCI thyroid), so the quick suite shortens only the number of
// seeds and files, and its DPLAN figures are the full schedule's. (DPLAN
// could not be shortened by much anyway: it learns only after 10,000
// warm-up steps.)
var tabQuickOverrides = map[string]map[string]string{}

func quickTabular(seed uint64) []results.Spec { return tabularSpecs(seed, true) }
func fullTabular(seed uint64) []results.Spec  { return tabularSpecs(seed, false) }

// tabularSpecs lists the tabular cells of the quick or full suite.
func tabularSpecs(seed uint64, quick bool) []results.Spec {
	nThy, nAD := tabSeedsThyroid, tabSeedsADBench
	files, common := tabADBenchFiles, tabFullCommon
	if quick {
		nThy, nAD = 1, 1
		files, common = tabQuickFiles, tabQuickFiles
	}
	seedsThy, seedsAD := evaluate.SeedList(seed, nThy), evaluate.SeedList(seed, nAD)
	with := func(method string, kv ...string) map[string]string {
		m := map[string]string{}
		if quick {
			for k, v := range tabQuickOverrides[method] {
				m[k] = v
			}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	var out []results.Spec
	// 1. DPLAN's own protocol on UCI thyroid.
	for _, known := range []int{1, 2} {
		task := fmt.Sprintf("known=%d", known)
		proto := []string{"protocol", "dplan", "known-class", strconv.Itoa(known)}
		for _, m := range []struct{ method, variant string }{{"dplan", ""}, {"dplan", "p=0.05"}, {"dplan", "episodes=20"}, {"devnet", ""}, {"deepsad", ""}, {"iforest", ""}} {
			kv := proto
			switch m.variant {
			case "p=0.05":
				kv = append(append([]string(nil), proto...), kvOf(optParams(func(o *dplan.Options) []any { o.P = 0.05; return []any{&o.P} }))...)
			case "episodes=20": // twice the paper's training, which meets its figures here
				kv = append(append([]string(nil), proto...), kvOf(optParams(func(o *dplan.Options) []any { o.Episodes = 20; return []any{&o.Episodes} }))...)
			}
			out = append(out, tabSpec(results.SectionOwn, tableDPLANThyroid, m.method, m.variant, "thyroid", task, seedsThy, with(m.method, kv...)))
		}
	}
	// 2. The ADBench protocol, 5% of the training anomalies labelled.
	for _, f := range files {
		for _, m := range []string{"dplan", "devnet", "deepsad", "iforest"} {
			out = append(out, tabSpec(results.SectionOwn, tableDPLANADBench, m, "", "adbench/"+f, "labeled=5%", seedsAD,
				with(m, "protocol", "adbench", "labeled-ratio", "0.05")))
		}
	}
	// 3. Common ground: one ADBench split (5% labelled) for every tabular
	// detector; DPLAN also with no labelled anomaly (ratio 0 gives the
	// same train/test split, the revealed anomalies staying unlabelled).
	for _, f := range common {
		d := "adbench/" + f
		ad := []string{"protocol", "adbench", "labeled-ratio", "0.05"}
		out = append(out,
			tabSpec(results.SectionCommon, tableCommonTabular, "dplan", "labeled=0", d, "labeled=5%", seedsAD,
				with("dplan", append([]string{"protocol", "adbench", "labeled-ratio", "0", "min-labeled", "0"}, kvOf(optParams(func(o *dplan.Options) []any { o.P = 0; return []any{&o.P} }))...)...)),
			tabSpec(results.SectionCommon, tableCommonTabular, "dplan", "labeled=5%", d, "labeled=5%", seedsAD, with("dplan", ad...)))
		for _, m := range []string{"devnet", "deepsad", "iforest", "pca", "autoencoder"} {
			out = append(out, tabSpec(results.SectionCommon, tableCommonTabular, m, "", d, "labeled=5%", seedsAD, with(m, ad...)))
		}
		// The classic detectors (issue #19), unsupervised: they train on the
		// same split and ignore the labels, as Isolation Forest does here.
		for _, m := range []string{"knn", "lof", "ecod", "hbos", "ocsvm", "loda"} {
			out = append(out, tabSpec(results.SectionCommon, tableCommonTabular, m, "", d, "labeled=5%", seedsAD, with(m, ad...)))
		}
		out = append(out, tabSpec(results.SectionCommon, tableCommonTabular, "copod", "aggregate=pyod", d, "labeled=5%", seedsAD,
			with("copod", append(append([]string(nil), ad...), "aggregate", "pyod")...)))
	}
	// The image-only detectors: one cell each, on the first file, whose
	// Note says why the row is empty (not one per file: the report lists
	// every cell's note).
	for _, m := range []string{"ganomaly", "deepcluster"} {
		out = append(out, results.Spec{Section: results.SectionCommon, Table: tableCommonTabular, Method: m, Data: "adbench/" + common[0], Task: "labeled=5%", Seeds: seedsAD})
	}
	// 4. Robustness: labelled anomalies 1 ... 120 on Hypothyroid.
	for _, n := range tabRobustLabeled {
		for _, m := range []string{"dplan", "devnet"} {
			out = append(out, tabSpec(results.SectionRobustness, tableRobustLabels, m, "", "thyroid", fmt.Sprintf("labeled=%d", n), seedsThy,
				with(m, "protocol", "dplan", "known-class", "1", "labeled", strconv.Itoa(n))))
		}
	}
	return out
}

// kvOf flattens a map of one or more settings into key, value pairs,
// sorted by key.
func kvOf(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, k, m[k])
	}
	return out
}

// tabSpec builds a tabular spec with every setting resolved. The
// settings are this file's constants, so an error is a bug in them (the
// tests build every spec); it panics with the reason.
func tabSpec(section, table, method, variant, dataName, task string, seeds []uint64, params map[string]string) results.Spec {
	st, err := parseTabular(method, params)
	if err != nil {
		panic(fmt.Sprintf("suite: tabular spec %s %s %s %s: %v", table, method, variant, task, err))
	}
	return results.Spec{Section: section, Table: table, Method: method, Variant: variant, Data: dataName, Task: task,
		Params: st.all(), Seeds: append([]uint64(nil), seeds...)}
}

// ErrTabular is wrapped by errors about a tabular cell's settings.
var ErrTabular = errors.New("suite: tabular cell")

// tabSetup is a parsed tabular cell: its protocol and its detector.
type tabSetup struct {
	proto tabProtocol
	// fresh makes the seeded, unfitted detector.
	fresh evaluate.Fresh
	// protoFS holds the protocol's settings, parsed; opts points to the
	// method's Options, parsed.
	protoFS *pflag.FlagSet
	opts    any
	// nonDefault lists "name=value (default d)" for the method settings
	// that differ from the method's defaults, sorted.
	nonDefault []string
}

// all returns every setting as strings: the protocol's and the method's.
func (s *tabSetup) all() map[string]string {
	out := map[string]string{}
	s.protoFS.VisitAll(func(f *pflag.Flag) { out[f.Name] = f.Value.String() })
	for k, v := range option.Values(s.opts) {
		out[k] = v
	}
	return out
}

// methodParams returns the method's settings as strings.
func (s *tabSetup) methodParams() map[string]string {
	return option.Values(s.opts)
}

// tabProtocol is how a cell splits its data.
type tabProtocol struct {
	// name is "dplan" (protocol.Weak) or "adbench" (protocol.ADBench).
	name string
	// weak are the dplan protocol's options (Seed set per seed).
	weak protocol.WeakOptions
	// labeledRatio, minLabeled and testFraction are the adbench
	// protocol's: minLabeled anomalies are revealed when the ratio reveals
	// fewer (small files), as `oddity eval dplan --min-labeled` does.
	labeledRatio, testFraction float64
	minLabeled                 int
}

// parseTabular reads a tabular cell's settings: "protocol" (dplan or
// adbench) and that protocol's settings, then the method's, each under its
// CLI flag name. Unknown names and malformed values are errors.
func parseTabular(method string, params map[string]string) (*tabSetup, error) {
	mfs := pflag.NewFlagSet(method, pflag.ContinueOnError)
	fresh, opts, err := tabMethod(method, mfs)
	if err != nil {
		return nil, err
	}
	st := &tabSetup{}
	p := &st.proto
	p.name = params["protocol"]
	pfs := pflag.NewFlagSet("protocol", pflag.ContinueOnError)
	pfs.StringVar(&p.name, "protocol", p.name, "dplan or adbench")
	var classes tabInts
	switch p.name {
	case "dplan":
		p.weak = protocol.DPLANThyroid(1, 0)
		classes.v = p.weak.AnomalyClasses
		pfs.Var(&classes, "anomaly-classes", "labels of the anomaly classes")
		pfs.IntVar(&p.weak.KnownClass, "known-class", p.weak.KnownClass, "the known anomaly class")
		pfs.IntVar(&p.weak.Labeled, "labeled", p.weak.Labeled, "labelled anomalies")
		pfs.Float64Var(&p.weak.Contamination, "contamination", p.weak.Contamination, "anomalies' share of the unlabelled data")
		pfs.Float64Var(&p.weak.TestFraction, "test-fraction", p.weak.TestFraction, "test share")
	case "adbench":
		p.labeledRatio, p.testFraction, p.minLabeled = 0.05, 0.3, 1
		pfs.Float64Var(&p.labeledRatio, "labeled-ratio", p.labeledRatio, "share of the training anomalies labelled")
		pfs.Float64Var(&p.testFraction, "test-fraction", p.testFraction, "test share")
		pfs.IntVar(&p.minLabeled, "min-labeled", p.minLabeled, "reveal at least this many training anomalies")
	default:
		return nil, fmt.Errorf("%w: protocol %q, want dplan or adbench", ErrTabular, p.name)
	}
	defaults := option.Values(opts)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fs := pfs
		if pfs.Lookup(k) == nil {
			fs = mfs
		}
		if fs.Lookup(k) == nil {
			return nil, fmt.Errorf("%w: %s has no setting %q under protocol %s", ErrTabular, method, k, p.name)
		}
		if err := fs.Set(k, params[k]); err != nil {
			return nil, fmt.Errorf("%w: %s setting %s=%q: %v", ErrTabular, method, k, params[k], err)
		}
	}
	if p.name == "dplan" {
		p.weak.AnomalyClasses = classes.v
		if len(classes.v) == 0 {
			return nil, fmt.Errorf("%w: no anomaly classes", ErrTabular)
		}
	}
	for _, f := range option.Fields(opts) {
		if d := defaults[f.Name]; f.Value != d {
			if _, recorded := option.Values(opts)[f.Name]; recorded || d != "" {
				st.nonDefault = append(st.nonDefault, fmt.Sprintf("%s=%s (default %s)", f.Name, f.Value, d))
			}
		}
	}
	sort.Strings(st.nonDefault)
	// Check the options now, not after the data is loaded.
	if _, err := fresh(0); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTabular, method, err)
	}
	st.fresh, st.protoFS, st.opts = fresh, pfs, opts
	return st, nil
}

// split builds one seed's split of ds, with a note when the adbench
// protocol had to reveal more anomalies than its ratio.
func (p tabProtocol) split(ds *data.Dataset, seed uint64) (*evaluate.Split, string, error) {
	var s *protocol.SemiSupervised
	var note string
	switch p.name {
	case "dplan":
		o := p.weak
		o.Seed = seed
		var err error
		if s, err = protocol.Weak(ds, o); err != nil {
			return nil, "", err
		}
	case "adbench":
		o := protocol.ADBenchOptions{TestFraction: p.testFraction, LabeledRatio: p.labeledRatio, Seed: seed}
		var err error
		if s, err = protocol.ADBench(ds, o); err != nil {
			return nil, "", err
		}
		if got := s.TrainLabeledAnomalies.N; got < p.minLabeled {
			a := got
			for _, y := range s.TrainUnlabeled.Y {
				a += y
			}
			if a > 0 {
				// The same seed gives the same train/test split; only the
				// number revealed changes.
				o.LabeledRatio = min(1, float64(p.minLabeled)/float64(a))
				if s, err = protocol.ADBench(ds, o); err != nil {
					return nil, "", err
				}
				note = fmt.Sprintf("seed %d: %d labelled (min-labeled), as %g of the %d training anomalies rounds to %d", seed, s.TrainLabeledAnomalies.N, p.labeledRatio, a, got)
			}
		}
	default:
		return nil, "", fmt.Errorf("%w: protocol %q", ErrTabular, p.name)
	}
	sp := &evaluate.Split{Train: s.TrainUnlabeled, Test: s.Test}
	if s.TrainLabeledAnomalies != nil && s.TrainLabeledAnomalies.N > 0 {
		sp.Anomalies = s.TrainLabeledAnomalies
	}
	return sp, note, nil
}

// runTabular is the executor of the tabular tables: per seed, split the
// data by the cell's protocol (the seed chooses the split and seeds the
// detector), fit on the training part, score the test part once, and rank
// the scores. Cell.Train counts the unlabelled and the labelled training
// rows together. A detector that cannot take tabular rows (GANomaly, deep
// clustering) gets a cell with only a Note saying so.
func runTabular(ctx context.Context, env *suite.Env, spec results.Spec) (*results.Cell, error) {
	if why, ok := tabNotApplicable[spec.Method]; ok {
		return &results.Cell{Note: why}, nil
	}
	if len(spec.Seeds) == 0 {
		return nil, fmt.Errorf("%w: no seeds", ErrTabular)
	}
	st, err := parseTabular(spec.Method, spec.Params)
	if err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = io.Discard
	}
	parts, err := env.Data(spec.Data)
	if err != nil {
		return nil, err
	}
	ds, err := parts.All()
	if err != nil {
		return nil, err
	}
	if ds.Y == nil {
		return nil, fmt.Errorf("%w: data %s has no labels", ErrTabular, spec.Data)
	}
	c := &results.Cell{}
	var notes []string
	if len(st.nonDefault) > 0 {
		notes = append(notes, "settings changed from the method's defaults: "+strings.Join(st.nonDefault, ", "))
	}
	if spec.Method == "dplan" && st.proto.name == "adbench" && st.proto.labeledRatio == 0 {
		notes = append(notes, "DPLAN given no labelled anomaly (p = 0: the sampler never draws D_a; the revealed 5% stay in the unlabelled data)")
	}
	var perSeed []map[string]float64
	var fit, rate float64
	for i, seed := range spec.Seeds {
		sp, note, err := st.proto.split(ds, seed)
		if err != nil {
			return nil, fmt.Errorf("%s seed %d: %w", spec.Data, seed, err)
		}
		if note != "" {
			notes = append(notes, note)
		}
		det, err := st.fresh(seed)
		if err != nil {
			return nil, err
		}
		run, err := evaluate.One(ctx, det, sp)
		if err != nil {
			return nil, fmt.Errorf("%s on %s, seed %d: %w", spec.Method, spec.Data, seed, err)
		}
		rk, err := suite.Rank(run.Scores, run.Labels, seed)
		if err != nil {
			return nil, err
		}
		perSeed = append(perSeed, map[string]float64{"auc_roc": rk.AUCROC, "auc_pr": rk.AUCPR})
		fit += run.FitSeconds
		rate += run.ScoreRate
		if i == 0 {
			c.ROC, c.PR, c.Scores = rk.ROC, rk.PR, rk.Scores
			c.Train, c.Test = run.Train+run.Labeled, run.Test
		}
		fmt.Fprintf(log, "  %s %s %s seed %d: AUC-PR %.4f AUC-ROC %.4f (fit %.1fs; %d unlabelled, %d labelled, %d test)\n",
			spec.Method, spec.Data, spec.Task, seed, rk.AUCPR, rk.AUCROC, run.FitSeconds, run.Train, run.Labeled, run.Test)
	}
	if c.Metrics, err = suite.Summarize(perSeed); err != nil {
		return nil, err
	}
	c.PerSeed = perSeed
	n := float64(len(spec.Seeds))
	c.FitSeconds, c.ScoreRate = fit/n, rate/n
	c.Published, c.Source = tabPublished(spec, st)
	c.Note = strings.Join(notes, "; ")
	return c, nil
}

// tabPublished returns the DPLAN paper's figures for a cell of its own
// protocol (docs/methods.md §2): DPLAN's AUC-PR and AUC-ROC on the two UCI
// thyroid tasks, and DevNet's AUC-PR (the paper's DevNet column, quoted in
// docs/methods.md §2's reproduction note). They apply to the paper's protocol with
// 60 labelled anomalies, 2% contamination and the anomaly classes 1, 2.
func tabPublished(spec results.Spec, st *tabSetup) (map[string]float64, string) {
	w := st.proto.weak
	if st.proto.name != "dplan" || w.Labeled != 60 || w.Contamination != 0.02 || w.TestFraction != 0.2 || spec.Data != "thyroid" {
		return nil, ""
	}
	const src = "Pang et al., DPLAN, KDD 2021, UCI thyroid (docs/methods.md §2)"
	switch {
	case spec.Method == "dplan" && w.KnownClass == 1:
		return map[string]float64{"auc_pr": 0.490, "auc_roc": 0.846}, src + ", Hypothyroid; the paper's text says p = 0.05, its code uses 0.5"
	case spec.Method == "dplan" && w.KnownClass == 2:
		return map[string]float64{"auc_pr": 0.436, "auc_roc": 0.821}, src + ", Subnormal; the paper's text says p = 0.05, its code uses 0.5"
	case spec.Method == "devnet" && w.KnownClass == 1:
		return map[string]float64{"auc_pr": 0.469}, src + ", DevNet column, Hypothyroid"
	case spec.Method == "devnet" && w.KnownClass == 2:
		return map[string]float64{"auc_pr": 0.379}, src + ", DevNet column, Subnormal"
	}
	return nil, ""
}

// tabMethod returns the registered tabular method called name, and binds
// its options (its package's declaration, defaults first) to fs. The
// returned constructor reads them.
func tabMethod(name string, fs *pflag.FlagSet) (evaluate.Fresh, any, error) {
	in, err := detector.Lookup(name)
	if err != nil || in.Kind&detector.Tables == 0 {
		var known []string
		for _, in := range detector.Infos() {
			if in.Kind&detector.Tables != 0 {
				known = append(known, in.Method)
			}
		}
		return nil, nil, fmt.Errorf("%w: unknown method %q (tabular methods: %s)", ErrTabular, name, strings.Join(known, ", "))
	}
	o := in.Options()
	option.Bind(fs, o)
	return func(seed uint64) (detector.Detector, error) {
		return in.Configure(option.Values(o), seed)
	}, o, nil
}

// tabInts is a pflag value holding comma-separated positive integers
// ("32,16"); with auto set, the empty list reads and prints as "auto".
// (pflag's IntSlice prints "[32,16]", which its Set does not read back.)
type tabInts struct {
	v    []int
	auto bool
}

func (l *tabInts) String() string {
	if len(l.v) == 0 && l.auto {
		return "auto"
	}
	s := make([]string, len(l.v))
	for i, x := range l.v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func (l *tabInts) Set(s string) error {
	if s = strings.TrimSpace(s); s == "" || (l.auto && s == "auto") {
		l.v = nil
		return nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || x < 1 {
			return fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, x)
	}
	l.v = out
	return nil
}

func (l *tabInts) Type() string { return "ints" }
