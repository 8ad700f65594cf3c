package dcgan_test

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"testing"

	"github.com/oddity-ml/oddity/cae"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/internal/dcgan/dcgantest"
)

// tamper returns a copy of the payload whose configuration has been
// changed by edit (the JSON as a map).
func tamper(t *testing.T, p *detector.Payload, edit func(cfg, opts map[string]any)) *detector.Payload {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(p.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	edit(cfg, cfg["options"].(map[string]any))
	cb, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &detector.Payload{Config: cb, Tensors: p.Tensors, Blobs: p.Blobs}
}

// A model file whose header declares sizes its tensors do not hold (a
// GANomaly width of 300 or 2000, a side of 65536, a huge latent size) is
// refused with ErrPayload before its networks are built: loading it
// allocates next to nothing. Without the bound, width 300 on 16×16 images
// built about 135 MB of networks before the tensor shapes were compared, and
// width 2000 or side 65536 ended the process.
func TestHeaderSizesAreBoundedByThePayload(t *testing.T) {
	o := ganomaly.DefaultOptions()
	dcgantest.Tiny(&o.Settings, 3)
	o.Epochs = 1
	d := ganomaly.New(o)
	if err := d.Fit(context.Background(), detector.TrainSet{X: dcgantest.Images(40, 1, 16, 16, 1)}); err != nil {
		t.Fatal(err)
	}
	p, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := ganomaly.New(ganomaly.DefaultOptions()).Unmarshal(p); err != nil {
		t.Fatalf("the untampered payload: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(cfg, opts map[string]any)
	}{
		{"width 300", func(_, o map[string]any) { o["width"] = 300 }},
		{"width 2000", func(_, o map[string]any) { o["width"] = 2000 }},
		{"nz 1e6", func(_, o map[string]any) { o["nz"] = 1000000 }},
		{"side 65536", func(c, _ map[string]any) { c["side"] = 65536 }},
		{"side 1024", func(c, _ map[string]any) { c["side"] = 1024 }},
		{"image 65536²", func(c, _ map[string]any) {
			c["input_shape"] = []int{1, 65536, 65536}
			c["sample_shape"] = []int{1, 65536, 65536}
			c["side"] = 0
		}},
		{"image 1<<62", func(c, _ map[string]any) {
			c["input_shape"] = []int{1, 1 << 62, 8}
			c["sample_shape"] = []int{1, 1 << 62, 8}
			c["side"] = 0
		}},
		{"channels 0", func(c, _ map[string]any) { c["input_shape"] = []int{0, 8, 8} }},
	} {
		bad := tamper(t, p, c.edit)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := ganomaly.New(ganomaly.DefaultOptions()).Unmarshal(bad)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, detector.ErrPayload) {
			t.Fatalf("%s: %v, want ErrPayload", c.name, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
			t.Fatalf("%s: refusing the file allocated %d MiB", c.name, grew>>20)
		}
	}

	// The autoencoder shares the loader.
	co := cae.DefaultOptions()
	dcgantest.Tiny(&co.Settings, 3)
	co.Epochs = 1
	a := cae.New(co)
	if err := a.Fit(context.Background(), detector.TrainSet{X: dcgantest.Images(40, 1, 16, 16, 1)}); err != nil {
		t.Fatal(err)
	}
	ap, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := cae.New(cae.DefaultOptions()).Unmarshal(ap); err != nil {
		t.Fatalf("the untampered autoencoder: %v", err)
	}
	if err := cae.New(cae.DefaultOptions()).Unmarshal(tamper(t, ap, func(_, o map[string]any) { o["width"] = 300 })); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("autoencoder width 300: %v", err)
	}
}
