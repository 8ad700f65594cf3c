// Package results is the schema of a benchmark run's results.json: the
// cells' specs (whose hash is the cache key), their measures, curves,
// figures and costs, and the machine. The runner (package suite) writes it;
// the report (package report) is rendered from it alone, so every number
// in the report regenerates from results.json.
package results

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/oddity-ml/oddity/metrics"
)

// ResultsVersion is the version of the results.json layout. It changes when
// a field's meaning changes, and it is part of every cell's hash, so cached
// cells of an older layout are recomputed rather than misread.
const Version = 1

// Section names the parts of the report a cell belongs to.
const (
	// SectionOwn: each method on its own ground, beside its paper's figure.
	SectionOwn = "own"
	// SectionCommon: every detector on the same tasks.
	SectionCommon = "common"
	// SectionRobustness: labelled anomalies and contamination sweeps.
	SectionRobustness = "robustness"
	// SectionExplain: explanations measured against planted causes.
	SectionExplain = "explanations"
)

// Explained is one explained test sample: its row in the test split, its
// score and its top features with their attributions.
type Explained struct {
	Row           int       `json:"row"`
	Score         float64   `json:"score"`
	Features      []string  `json:"features"`
	Contributions []float64 `json:"contributions"`
}

// Spec is one cell's configuration: which method runs on which task with
// which settings and seeds. Its hash (ID) is the cache key, so anything that
// changes a cell's numbers must be in Spec.
type Spec struct {
	// Section is SectionOwn, SectionCommon, SectionRobustness or
	// SectionExplain.
	Section string `json:"section"`
	// Table groups cells into one table of the report, e.g.
	// "ganomaly-mnist" or "common-tabular".
	Table string `json:"table"`
	// Method is a registered detector name ("ganomaly", "dplan", ...) or
	// "deepcluster-clustering" for the clustering measures.
	Method string `json:"method"`
	// Variant distinguishes settings of one method shown side by side,
	// e.g. "p=0.05" or "labeled=0"; empty for the default.
	Variant string `json:"variant,omitempty"`
	// Data is a catalog name ("mnist", "thyroid", "adbench/cardio", ...).
	Data string `json:"data"`
	// Task is the protocol's instance: "abnormal=3", "known=1",
	// "labeled=5%", "k=10", ...
	Task string `json:"task"`
	// Params are the detector's and protocol's settings, as strings, in
	// the form the CLI flags take them.
	Params map[string]string `json:"params,omitempty"`
	// Seeds are the seeds the cell averages over.
	Seeds []uint64 `json:"seeds"`
}

// ID is the hex SHA-256 of the spec's canonical JSON (encoding/json sorts
// map keys) and ResultsVersion, truncated to 16 characters.
func (s Spec) ID() string {
	b, err := json.Marshal(struct {
		V int  `json:"v"`
		S Spec `json:"s"`
	}{Version, s})
	if err != nil { // a Spec always marshals
		panic(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// Results is everything a suite run measured: results.json.
type Results struct {
	// Version is ResultsVersion.
	Version int `json:"version"`
	// Suite is the suite's name ("quick", "full", "demo").
	Suite string `json:"suite"`
	// Description says what the suite shortens (subsets, schedules), shown
	// on every table of a shortened suite.
	Description string `json:"description"`
	// Seed is the suite's base seed.
	Seed uint64 `json:"seed"`
	// Commit is the git commit of the code that ran ("unknown" outside a
	// checkout), with "-dirty" when the tree had changes.
	Commit string `json:"commit"`
	// Command is the command line that produced the results.
	Command string `json:"command"`
	// Machine describes where it ran.
	Machine Machine `json:"machine"`
	// Started and Finished bound the run; WallSeconds is the sum of the
	// cells' wall times (cached cells count their original time).
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`
	WallSeconds float64   `json:"wall_seconds"`
	// Cells are the finished cells in suite order.
	Cells []Cell `json:"cells"`
	// Missing are the suite's cells the output folder does not hold (left
	// out by --only, failed, or not reached by a stopped run), in suite
	// order: a report of a suite still being assembled says what it lacks.
	Missing []Spec `json:"missing,omitempty"`
	// Architectures describe each method's networks.
	Architectures []Architecture `json:"architectures"`
	// Defaults say, for each method, how its default settings were chosen:
	// taken from the paper or a reference library, set by a budget, or
	// tuned by looking at results (and then on which data, and what they
	// give out of sample). Absent from results written before it existed.
	Defaults []Provenance `json:"defaults,omitempty"`
}

// Provenance says how one method's defaults were chosen.
type Provenance struct {
	Method string `json:"method"`
	// Source is where the defaults come from, in a few words: "paper",
	// "reference library", "budget", "tuned".
	Source string `json:"source"`
	// How says it in full: what was taken or tuned, on which data, and
	// what the tuned setting gives out of sample where it was checked.
	How string `json:"how"`
}

// Machine describes the computer a suite ran on.
type Machine struct {
	CPU       string  `json:"cpu"`
	Cores     int     `json:"cores"`
	MemoryGiB float64 `json:"memory_gib"`
	OS        string  `json:"os"`
	GoVersion string  `json:"go_version"`
	// Kernels is the SGEMM micro-kernel the engine chose (e.g. "avx512").
	Kernels string `json:"kernels"`
}

// Cell is one finished cell: a spec and what it measured.
type Cell struct {
	// ID is Spec.ID().
	ID   string `json:"id"`
	Spec Spec   `json:"spec"`
	// Metrics summarise the measures over seeds, by name: "auc_roc",
	// "auc_pr" for detectors; "acc", "nmi", "ari" for clustering.
	Metrics map[string]metrics.Summary `json:"metrics"`
	// PerSeed holds each seed's measures, in Spec.Seeds order.
	PerSeed []map[string]float64 `json:"per_seed"`
	// Published is the paper's figure for the same measure and task, by
	// measure name, when there is one; Source cites it.
	Published map[string]float64 `json:"published,omitempty"`
	Source    string             `json:"source,omitempty"`
	// FitSeconds is the mean training time per seed; ScoreRate the mean
	// number of test samples scored per second; WallSeconds the cell's
	// whole time, over every run that finished some of its seeds (cells
	// written before the seed progress recorded time count only the last
	// run); PeakRSSBytes the process's peak resident memory when the
	// cell finished (a high-water mark: cells run one after another).
	FitSeconds   float64 `json:"fit_seconds"`
	ScoreRate    float64 `json:"score_rate"`
	WallSeconds  float64 `json:"wall_seconds"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	// Train and Test count the samples of the first seed's split.
	Train int `json:"train"`
	Test  int `json:"test"`
	// Curves are the first seed's ROC and PR curves, thinned to at most a
	// few hundred points; nil for clustering cells.
	ROC *XY `json:"roc,omitempty"`
	PR  *XY `json:"pr,omitempty"`
	// Scores are the first seed's test scores grouped by label (normal,
	// anomaly), subsampled to at most 2,000 each, for histograms.
	Scores *ScoreSample `json:"scores,omitempty"`
	// Embedding is a 2-D t-SNE of the method's latent space for the first
	// seed (at most a few thousand points), when the method has one.
	Embedding *Embedding `json:"embedding,omitempty"`
	// Images are figure files written beside results.json (PNG image
	// grids such as reconstructions), relative to the output folder.
	Images []string `json:"images,omitempty"`
	// Explained are the first seed's highest-scoring test anomalies with
	// the features that drive each score most, as the method explains
	// them; nil for cells that do not explain.
	Explained []Explained `json:"explained,omitempty"`
	// Note says anything a reader must know about this cell.
	Note string `json:"note,omitempty"`
	// Commit is the checkout that computed the cell (as Results.Commit);
	// a suite resumed over several commits keeps each cell's own. Empty in
	// cells from before it was recorded.
	Commit string `json:"commit,omitempty"`
}

// XY is a curve: X and Y of equal length.
type XY struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// ScoreSample holds anomaly scores by true label.
type ScoreSample struct {
	Normal  []float64 `json:"normal"`
	Anomaly []float64 `json:"anomaly"`
}

// Embedding is a labelled 2-D point cloud.
type Embedding struct {
	// Space names the latent space embedded ("the code z = G_E(x)", "the
	// Q-network's hidden layer", ...); empty in cells of older runs.
	Space string    `json:"space,omitempty"`
	X     []float64 `json:"x"`
	Y     []float64 `json:"y"`
	Label []int     `json:"label"`
	// Cluster is the method's assignment, when it clusters.
	Cluster []int `json:"cluster,omitempty"`
}

// Architecture describes one method's networks for the architectures table.
type Architecture struct {
	Method string `json:"method"`
	// Variant tells apart two entries of one method, e.g. "CPU schedule"
	// and "paper schedule"; empty when the method has one.
	Variant string `json:"variant,omitempty"`
	// Input is the input shape the figures refer to, e.g. "1x32x32".
	Input string `json:"input"`
	// Networks lists each network: name, layer summary, parameters and
	// forward FLOPs per sample (a multiply-add counts as two).
	Networks []Network `json:"networks"`
	// Hyper are the hyper-parameters used, by name.
	Hyper map[string]string `json:"hyper"`
}

// Network is one network of a method.
type Network struct {
	Name   string `json:"name"`
	Layers string `json:"layers"`
	Params int64  `json:"params"`
	FLOPs  int64  `json:"flops_per_sample"`
}

// Selected reports whether one of the --only patterns picks s: a substring
// of its table or method, or "TABLE/METHOD[/DATA]", substrings of each
// (an empty part matches anything), so "common-mnist/ganomaly" picks
// GANomaly's cells of that table and not its own-ground tables, and
// "deepcluster-clustering//usps" the USPS clustering cell.
func (s Spec) Selected(only []string) bool {
	for _, o := range only {
		if !strings.Contains(o, "/") {
			if strings.Contains(s.Table, o) || strings.Contains(s.Method, o) {
				return true
			}
			continue
		}
		parts := strings.SplitN(o, "/", 3)
		fields := []string{s.Table, s.Method, s.Data}
		ok := true
		for i, p := range parts {
			ok = ok && strings.Contains(fields[i], p)
		}
		if ok {
			return true
		}
	}
	return false
}

// Read reads a results.json, refusing another layout version.
func Read(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("%s: results version %d, this oddity reads %d", path, r.Version, Version)
	}
	return &r, nil
}
