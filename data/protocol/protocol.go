// Package protocol turns labelled data sets into the train/test splits of the
// anomaly-detection experiments: leave-one-class-out for images (GANomaly,
// deep clustering), ADBench's semi-supervised split for tabular data, and
// DPLAN's weakly supervised protocol on the UCI thyroid files, generalised.
//
// Every random choice draws from math/rand/v2's PCG seeded with the caller's
// seed (one stream per purpose), so the same seed gives the same split. The
// binary labels of the results are 0 = normal and 1 = anomaly; on training
// sets they are the ground truth, kept for analysis (contamination rates,
// plots) and not for unsupervised detectors to use. The Index fields give
// each result row's position in the input, so its original class is
// input.Y[Index[i]].
package protocol

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/oddity-ml/oddity/data"
)

// ErrProtocol is wrapped by errors about impossible protocol settings (an
// absent class, too few anomalies for the requested counts).
var ErrProtocol = errors.New("protocol")

// Stream constants: one PCG stream per kind of random choice.
const (
	streamSplit  = 0x5350_4c49_54 // "SPLIT"
	streamLabels = 0x4c_4142_454c // "LABEL"
	streamMix    = 0x4d_4958      // "MIX"
)

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// binaryNames names the labels of every protocol result.
var binaryNames = []string{"normal", "anomaly"}

// subset copies rows idx of ds with labels y (binary), named name.
func subset(ds *data.Dataset, idx []int, y []int, name string) (*data.Dataset, error) {
	out, err := ds.Subset(idx)
	if err != nil {
		return nil, err
	}
	out.Name, out.Y, out.ClassNames = name, y, binaryNames
	return out, nil
}

func binary(ds *data.Dataset, idx []int, isAnomaly func(int) bool) []int {
	y := make([]int, len(idx))
	for i, k := range idx {
		if isAnomaly(ds.Y[k]) {
			y[i] = 1
		}
	}
	return y
}

func labelled(ds *data.Dataset, what string) error {
	if ds == nil || ds.Y == nil {
		return fmt.Errorf("%w: %s data set is unlabelled", ErrProtocol, what)
	}
	return nil
}

// ImageSplit is a one-class (leave-one-class-out) experiment.
type ImageSplit struct {
	// Train holds the normal classes' training samples plus any contamination;
	// Y is 1 for the contaminating abnormal samples (ground truth only).
	Train *data.Dataset
	// Test is the whole test split, Y = 1 for the abnormal class.
	Test *data.Dataset
	// TrainIndex gives each training row's index in the input training set.
	TrainIndex []int
}

// LOCOOptions configures LeaveOneClassOut.
type LOCOOptions struct {
	// Contamination is the fraction of the training set made of abnormal
	// training samples, in [0, 1); 0 gives a clean training set.
	Contamination float64
	// Seed chooses the contaminating samples.
	Seed uint64
}

// LeaveOneClassOut builds the one-class protocol with class abnormal as the
// anomaly: the training set is the training samples of every other class
// (plus, with o.Contamination > 0, round(c·n/(1−c)) abnormal training samples
// drawn at random, n the number of normal ones), and the test set is the whole
// test split labelled 1 for the abnormal class and 0 otherwise. Rows keep the
// input order.
func LeaveOneClassOut(train, test *data.Dataset, abnormal int, o LOCOOptions) (*ImageSplit, error) {
	if err := labelled(train, "training"); err != nil {
		return nil, err
	}
	if err := labelled(test, "test"); err != nil {
		return nil, err
	}
	if o.Contamination < 0 || o.Contamination >= 1 || math.IsNaN(o.Contamination) {
		return nil, fmt.Errorf("%w: contamination %v outside [0,1)", ErrProtocol, o.Contamination)
	}
	var normal, ab []int
	for i, y := range train.Y {
		if y == abnormal {
			ab = append(ab, i)
		} else {
			normal = append(normal, i)
		}
	}
	if len(normal) == 0 {
		return nil, fmt.Errorf("%w: no normal training samples besides class %d", ErrProtocol, abnormal)
	}
	if !slices.Contains(test.Y, abnormal) {
		return nil, fmt.Errorf("%w: class %d is absent from the test set", ErrProtocol, abnormal)
	}
	idx := normal
	if o.Contamination > 0 {
		k := int(math.Round(o.Contamination * float64(len(normal)) / (1 - o.Contamination)))
		if k > len(ab) {
			return nil, fmt.Errorf("%w: contamination %v needs %d abnormal training samples of class %d, there are %d",
				ErrProtocol, o.Contamination, k, abnormal, len(ab))
		}
		r := newRand(o.Seed, streamMix)
		r.Shuffle(len(ab), func(i, j int) { ab[i], ab[j] = ab[j], ab[i] })
		idx = append(append([]int(nil), normal...), ab[:k]...)
		sort.Ints(idx)
	}
	isAb := func(y int) bool { return y == abnormal }
	tr, err := subset(train, idx, binary(train, idx, isAb), fmt.Sprintf("%s-loco%d-train", train.Name, abnormal))
	if err != nil {
		return nil, err
	}
	all := make([]int, test.N)
	for i := range all {
		all[i] = i
	}
	te, err := subset(test, all, binary(test, all, isAb), fmt.Sprintf("%s-loco%d-test", test.Name, abnormal))
	if err != nil {
		return nil, err
	}
	return &ImageSplit{Train: tr, Test: te, TrainIndex: idx}, nil
}

// StratifiedSplit splits the indices 0..len(y)-1 class by class: of each
// class's n members, round(testFraction·n) drawn at random go to test, the
// rest to train. Both lists are sorted.
func StratifiedSplit(y []int, testFraction float64, seed uint64) (train, test []int, err error) {
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("%w: test fraction %v outside (0,1)", ErrProtocol, testFraction)
	}
	byClass := map[int][]int{}
	for i, c := range y {
		byClass[c] = append(byClass[c], i)
	}
	classes := make([]int, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Ints(classes)
	r := newRand(seed, streamSplit)
	for _, c := range classes {
		m := byClass[c]
		r.Shuffle(len(m), func(i, j int) { m[i], m[j] = m[j], m[i] })
		k := int(math.Round(testFraction * float64(len(m))))
		test = append(test, m[:k]...)
		train = append(train, m[k:]...)
	}
	sort.Ints(train)
	sort.Ints(test)
	return train, test, nil
}

// MinMax is a per-feature min-max scaling, x' = (x − Min) / (Max − Min), with
// a constant feature (Max = Min) mapped as x − Min (so to 0 on the data it
// was fitted on), as scikit-learn's MinMaxScaler does.
type MinMax struct {
	Min, Max []float32
}

// FitMinMax fits the scaling to the samples idx of ds (all samples when idx
// is nil).
func FitMinMax(ds *data.Dataset, idx []int) (*MinMax, error) {
	d := ds.Dim()
	if idx == nil {
		idx = make([]int, ds.N)
		for i := range idx {
			idx[i] = i
		}
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("%w: min-max scaling fitted on no samples", ErrProtocol)
	}
	m := &MinMax{Min: make([]float32, d), Max: make([]float32, d)}
	copy(m.Min, ds.Row(idx[0]))
	copy(m.Max, ds.Row(idx[0]))
	for _, i := range idx[1:] {
		for j, v := range ds.Row(i) {
			m.Min[j] = min(m.Min[j], v)
			m.Max[j] = max(m.Max[j], v)
		}
	}
	return m, nil
}

// Apply scales ds in place.
func (m *MinMax) Apply(ds *data.Dataset) error {
	d := ds.Dim()
	if d != len(m.Min) {
		return fmt.Errorf("%w: scaling fitted on %d features applied to %d", ErrProtocol, len(m.Min), d)
	}
	for i := 0; i < ds.N; i++ {
		row := ds.Row(i)
		for j, v := range row {
			lo, span := float64(m.Min[j]), float64(m.Max[j])-float64(m.Min[j])
			if span == 0 {
				span = 1
			}
			row[j] = float32((float64(v) - lo) / span)
		}
	}
	return nil
}

// SemiSupervised is a tabular experiment with unlabelled training data, a few
// labelled anomalies and a labelled test set, all scaled by Scaler (fitted on
// the training part).
type SemiSupervised struct {
	// TrainUnlabeled is the unlabelled training set; Y is the ground truth.
	TrainUnlabeled *data.Dataset
	// TrainLabeledAnomalies are the anomalies revealed as labelled (Y = 1).
	TrainLabeledAnomalies *data.Dataset
	// Test is the test set with binary labels.
	Test *data.Dataset
	// Scaler is the min-max scaling fitted on the training part.
	Scaler *MinMax
	// UnlabeledIndex, LabeledIndex and TestIndex give each row's index in
	// the input data set.
	UnlabeledIndex, LabeledIndex, TestIndex []int
}

func build(ds *data.Dataset, trainPart, unl, lab, test []int, isAnomaly func(int) bool, tag string) (*SemiSupervised, error) {
	sc, err := FitMinMax(ds, trainPart)
	if err != nil {
		return nil, err
	}
	out := &SemiSupervised{Scaler: sc, UnlabeledIndex: unl, LabeledIndex: lab, TestIndex: test}
	if out.TrainUnlabeled, err = subset(ds, unl, binary(ds, unl, isAnomaly), ds.Name+"-"+tag+"-unlabeled"); err != nil {
		return nil, err
	}
	if out.TrainLabeledAnomalies, err = subset(ds, lab, binary(ds, lab, isAnomaly), ds.Name+"-"+tag+"-labeled"); err != nil {
		return nil, err
	}
	if out.Test, err = subset(ds, test, binary(ds, test, isAnomaly), ds.Name+"-"+tag+"-test"); err != nil {
		return nil, err
	}
	for _, p := range []*data.Dataset{out.TrainUnlabeled, out.TrainLabeledAnomalies, out.Test} {
		if err := sc.Apply(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ADBenchOptions configures ADBench.
type ADBenchOptions struct {
	// TestFraction is the stratified test share; 0 means 0.3.
	TestFraction float64
	// LabeledRatio is the fraction of the training anomalies revealed as
	// labelled, in [0, 1] (ADBench uses 0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1).
	LabeledRatio float64
	// Seed chooses the split and the revealed anomalies.
	Seed uint64
}

// ADBench builds ADBench's semi-supervised split of a data set labelled 0
// (normal) / 1 (anomaly): a stratified 70/30 train/test split, min-max
// scaling fitted on the training part, and round(r·a) of the a training
// anomalies, drawn at random, revealed as labelled; the rest of the training
// part (normals and hidden anomalies) is unlabelled.
func ADBench(ds *data.Dataset, o ADBenchOptions) (*SemiSupervised, error) {
	if err := labelled(ds, "input"); err != nil {
		return nil, err
	}
	for i, y := range ds.Y {
		if y != 0 && y != 1 {
			return nil, fmt.Errorf("%w: ADBench labels must be 0/1, sample %d has %d", ErrProtocol, i, y)
		}
	}
	if !(o.LabeledRatio >= 0 && o.LabeledRatio <= 1) {
		return nil, fmt.Errorf("%w: labelled ratio %v outside [0,1]", ErrProtocol, o.LabeledRatio)
	}
	tf := o.TestFraction
	if tf == 0 {
		tf = 0.3
	}
	train, test, err := StratifiedSplit(ds.Y, tf, o.Seed)
	if err != nil {
		return nil, err
	}
	var anom []int
	for _, i := range train {
		if ds.Y[i] == 1 {
			anom = append(anom, i)
		}
	}
	k := int(math.Round(o.LabeledRatio * float64(len(anom))))
	r := newRand(o.Seed, streamLabels)
	r.Shuffle(len(anom), func(i, j int) { anom[i], anom[j] = anom[j], anom[i] })
	lab := append([]int(nil), anom[:k]...)
	sort.Ints(lab)
	revealed := map[int]bool{}
	for _, i := range lab {
		revealed[i] = true
	}
	var unl []int
	for _, i := range train {
		if !revealed[i] {
			unl = append(unl, i)
		}
	}
	return build(ds, train, unl, lab, test, func(y int) bool { return y == 1 }, "adbench")
}

// WeakOptions configures Weak, the weakly supervised protocol of DPLAN.
type WeakOptions struct {
	// AnomalyClasses are the labels of anomalies; every other label is normal.
	AnomalyClasses []int
	// KnownClass is the anomaly class whose training anomalies may be
	// labelled.
	KnownClass int
	// Labeled is the number of labelled anomalies (DPLAN: 60).
	Labeled int
	// Contamination is the anomalies' share of the unlabelled training set,
	// in [0, 1) (DPLAN: 0.02).
	Contamination float64
	// TestFraction is the stratified test share (DPLAN: 0.2). Zero keeps
	// every row for training and leaves the test set empty: training a
	// model for use rather than evaluating one.
	TestFraction float64
	// Seed chooses the split, the labelled and the unlabelled anomalies.
	Seed uint64
}

// DPLANThyroid returns the options of DPLAN's protocol on the UCI thyroid
// data (csvfile.LoadUCIThyroid: class 3 normal, 1 and 2 anomalies) with known
// anomaly class 1 or 2: 60 labelled anomalies, 2% contamination, 80/20 split.
func DPLANThyroid(knownClass int, seed uint64) WeakOptions {
	return WeakOptions{AnomalyClasses: []int{1, 2}, KnownClass: knownClass, Labeled: 60,
		Contamination: 0.02, TestFraction: 0.2, Seed: seed}
}

// Weak builds the weakly supervised protocol (docs/methods.md §2): a
// stratified train/test split by class; min-max scaling fitted on the
// training part; o.Labeled training anomalies of the known class drawn as the
// labelled set; an unlabelled set of all training normals plus
// round(c·n/(1−c)) training anomalies of any anomaly class (n normals),
// drawn at random from those not labelled, and from the labelled ones too
// only when the others are too few; the test set is the whole test part,
// labelled 1 for every anomaly class.
func Weak(ds *data.Dataset, o WeakOptions) (*SemiSupervised, error) {
	if err := labelled(ds, "input"); err != nil {
		return nil, err
	}
	if !slices.Contains(o.AnomalyClasses, o.KnownClass) {
		return nil, fmt.Errorf("%w: known class %d is not among the anomaly classes %v", ErrProtocol, o.KnownClass, o.AnomalyClasses)
	}
	if o.Labeled < 0 || !(o.Contamination >= 0 && o.Contamination < 1) {
		return nil, fmt.Errorf("%w: labelled count %d or contamination %v out of range", ErrProtocol, o.Labeled, o.Contamination)
	}
	isAnomaly := func(y int) bool { return slices.Contains(o.AnomalyClasses, y) }
	var train, test []int
	if o.TestFraction == 0 {
		train = make([]int, ds.N)
		for i := range train {
			train[i] = i
		}
	} else {
		var err error
		if train, test, err = StratifiedSplit(ds.Y, o.TestFraction, o.Seed); err != nil {
			return nil, err
		}
	}
	var normals, known, others []int
	for _, i := range train {
		switch y := ds.Y[i]; {
		case y == o.KnownClass:
			known = append(known, i)
		case isAnomaly(y):
			others = append(others, i)
		default:
			normals = append(normals, i)
		}
	}
	if len(normals) == 0 {
		return nil, fmt.Errorf("%w: no normal training samples", ErrProtocol)
	}
	if len(known) < o.Labeled {
		return nil, fmt.Errorf("%w: %d labelled anomalies wanted, the training part has %d of class %d",
			ErrProtocol, o.Labeled, len(known), o.KnownClass)
	}
	r := newRand(o.Seed, streamLabels)
	r.Shuffle(len(known), func(i, j int) { known[i], known[j] = known[j], known[i] })
	lab := append([]int(nil), known[:o.Labeled]...)
	pool := append(append([]int(nil), known[o.Labeled:]...), others...)
	sort.Ints(pool)
	need := int(math.Round(o.Contamination * float64(len(normals)) / (1 - o.Contamination)))
	if need > len(pool)+len(lab) {
		return nil, fmt.Errorf("%w: contamination %v needs %d training anomalies, there are %d",
			ErrProtocol, o.Contamination, need, len(pool)+len(lab))
	}
	m := newRand(o.Seed, streamMix)
	m.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	var chosen []int
	if need <= len(pool) {
		chosen = pool[:need]
	} else {
		reuse := append([]int(nil), lab...)
		m.Shuffle(len(reuse), func(i, j int) { reuse[i], reuse[j] = reuse[j], reuse[i] })
		chosen = append(pool, reuse[:need-len(pool)]...)
	}
	unl := append(append([]int(nil), normals...), chosen...)
	sort.Ints(unl)
	sort.Ints(lab)
	return build(ds, train, unl, lab, test, isAnomaly, fmt.Sprintf("weak%d", o.KnownClass))
}
