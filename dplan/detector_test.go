package dplan

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

func TestConformance(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method: Method,
		Settings: map[string]string{"episodes": "2", "steps": "300", "warmup": "100", "eps-steps": "300",
			"target-update": "100", "forest-trees": "20"},
		Slow:      map[string]string{"episodes": "1000"},
		Bad:       map[string]string{"p": "1.5", "subset": "0"},
		Train:     detectortest.Gaussian(300, 5, 0, 0, 1),
		Anomalies: detectortest.Gaussian(10, 5, 4, 1, 2),
		Test:      detectortest.Gaussian(50, 5, 0.5, 0, 3),
	})
}

// shortOptions trains for a few hundred steps.
func shortOptions(seed uint64) Options {
	o := fastOptions(seed)
	o.Episodes, o.StepsPerEpisode, o.Warmup = 2, 300, 100
	return o
}

func TestProgressOncePerEpisode(t *testing.T) {
	unl, lab, _ := synthetic(8, 4, 200, 5)
	o := shortOptions(2)
	o.Episodes = 3
	var got []detector.Progress
	m := New(o)
	if err := m.Fit(context.Background(), detector.TrainSet{X: unl, Anomalies: lab, Progress: func(p detector.Progress) { got = append(got, p) }}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(m.History) != 3 {
		t.Fatalf("%d progress reports and %d history entries for 3 episodes", len(got), len(m.History))
	}
	for i, p := range got {
		if p.Phase != "episode" || p.Done != i+1 || p.Total != 3 || p.Metrics["reward"] != m.History[i].Reward {
			t.Errorf("report %d: %+v (episode %+v)", i, p, m.History[i])
		}
	}
}

// Loading goes through the registry, which makes a detector with
// DefaultOptions: Unmarshal must restore every saved option, and the
// images' sample shape.
func TestUnmarshalRestoresConfiguration(t *testing.T) {
	r := detectortest.Blobs(120, 6, false, 1)
	a := detectortest.Blobs(6, 6, true, 2)
	o := shortOptions(9)
	o.Hidden, o.BatchSize, o.Loss, o.DoubleDQN, o.ScaleInput, o.Workers = 7, 16, LossHuber, true, true, 3
	m := New(o)
	if err := m.Fit(context.Background(), detector.TrainSet{X: r, Anomalies: a}); err != nil {
		t.Fatal(err)
	}
	p, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	d, err := detector.New(Method)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	got := d.(*Detector)
	want := o
	want.Workers = 0 // not saved: the loading detector's own
	if got.Options != want {
		t.Errorf("restored %+v\nwant %+v", got.Options, want)
	}
	if _, err := got.Score(context.Background(), a); err != nil {
		t.Errorf("score images of the training shape: %v", err)
	}
	flat := &data.Dataset{N: a.N, Shape: []int{36}, X: a.X}
	if _, err := got.Score(context.Background(), flat); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("flattened images: %v, want ErrSchema", err)
	}
}

// A model saved before the sample shape was stored checks the sample width
// only, as it did then.
func TestLoadWithoutShape(t *testing.T) {
	unl, lab, test := synthetic(10, 4, 200, 5)
	m := fit(t, shortOptions(4), unl, lab)
	p := detectortest.SavedWithout(t, m, "shape")
	old := New(DefaultOptions())
	if err := old.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	want, _ := m.Score(context.Background(), test)
	got, err := old.Score(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	detectortest.WantScores(t, "loaded without a shape", got, want)
	wide := &data.Dataset{N: 1, Shape: []int{5}, X: make([]float32, 5)}
	if _, err := old.Score(context.Background(), wide); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("5 features for a 4-feature model: %v, want ErrSchema", err)
	}
}

func TestUnmarshalRefusesBadPayload(t *testing.T) {
	unl, lab, _ := synthetic(12, 4, 200, 5)
	m := fit(t, shortOptions(4), unl, lab)
	for name, edit := range map[string]func(c map[string]any){
		"bad option":   func(c map[string]any) { c["options"].(map[string]any)["batch"] = 0 },
		"bad shape":    func(c map[string]any) { c["shape"] = []int{3} },
		"bad width":    func(c map[string]any) { c["dim"] = 5 },
		"hidden width": func(c map[string]any) { c["options"].(map[string]any)["hidden"] = 3 },
	} {
		p, _ := m.Marshal()
		var c map[string]any
		if err := json.Unmarshal(p.Config, &c); err != nil {
			t.Fatal(err)
		}
		edit(c)
		p.Config, _ = json.Marshal(c)
		if err := New(DefaultOptions()).Unmarshal(p); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("%s: %v, want ErrPayload", name, err)
		}
	}
}
