package experiments

import (
	"github.com/oddity-ml/oddity/suite/results"

	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/oddity-ml/oddity/deepcluster"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/suite"
	"github.com/oddity-ml/oddity/tensor"
)

// The image methods' rows of the architecture table: GANomaly's four
// networks and the CAE at 1×32×32 (padded MNIST), the DCEC autoencoder at
// 1×28×28. The networks are built by their packages' own constructors and
// walked layer by layer with one sample, so every output shape comes from a
// real forward pass and every parameter count from the real tensors (BatchNorm
// running statistics are buffers, not parameters, and are left out).
// FLOPs per sample count the multiply-adds of convolutions, transposed
// convolutions and dense layers as two operations each:
// convolution 2·Cin·K·K·Cout·OH·OW, transposed convolution 2·Cin·K·K·Cout·IH·IW
// (every input pixel meets every kernel weight), dense 2·in·out; bias
// additions, BatchNorm and activations are left out.

func init() { suite.RegisterArchitectures(imageArchitectures) }

func imageArchitectures() []results.Architecture {
	var out []results.Architecture
	for _, s := range []struct {
		name, variant string
		o             ganomaly.Options
	}{
		{"cpu", "CPU schedule (the suite's cells)", ganomaly.DefaultOptions()},
		{"paper", "paper schedule (--schedule paper; not run by the suite)", ganomaly.PaperOptions()},
	} {
		g, c := imgArchGAN(s.name, s.o), imgArchCAE(s.name, s.o)
		g.Variant, c.Variant = s.variant, s.variant
		out = append(out, g, c)
	}
	dc := imgArchDCEC()
	dc.Variant = "the defaults of oddity cluster (the suite's cells shorten pretraining; their notes say how)"
	return append(out, dc)
}

// imgLayerStat is one layer of a walked network.
type imgLayerStat struct {
	desc   string
	params int64
	flops  int64
}

// imgConvFLOPs is a convolution's FLOPs per sample: 2·Cin·K·K·Cout·OH·OW.
func imgConvFLOPs(cin, k, cout, oh, ow int) int64 {
	return 2 * int64(cin) * int64(k) * int64(k) * int64(cout) * int64(oh) * int64(ow)
}

// imgWalk runs one sample x (shape 1×...) through m layer by layer, without
// recording gradients, and describes each layer. It returns the output.
func imgWalk(m nn.Module, x *tensor.Tensor, out *[]imgLayerStat) (*tensor.Tensor, error) {
	count := func(ts []*tensor.Tensor) int64 {
		var n int64
		for _, t := range ts {
			n += int64(t.Len())
		}
		return n
	}
	shape := func(t *tensor.Tensor) string {
		s := make([]string, len(t.Shape)-1)
		for i, v := range t.Shape[1:] {
			s[i] = strconv.Itoa(v)
		}
		return strings.Join(s, "x")
	}
	switch l := m.(type) {
	case *nn.Sequential:
		var err error
		for _, c := range l.Layers {
			if x, err = imgWalk(c, x, out); err != nil {
				return nil, err
			}
		}
		return x, nil
	case *ganomaly.Encoder:
		y, err := imgWalk(l.Features, x, out)
		if err != nil {
			return nil, err
		}
		return imgWalk(l.Final, y, out)
	case *nn.Conv2d:
		y := l.Forward(nil, x)
		w := l.Weight.Shape // Cout×Cin×K×K
		*out = append(*out, imgLayerStat{
			desc:   fmt.Sprintf("Conv(%d→%d, k%d s%d p%d%s) → %s", w[1], w[0], w[2], l.Opt.Stride, l.Opt.Padding, imgBias(l.Bias), shape(y)),
			params: count(l.Parameters()), flops: imgConvFLOPs(w[1], w[2], w[0], y.Shape[2], y.Shape[3])})
		return y, nil
	case *nn.ConvTranspose2d:
		y := l.Forward(nil, x)
		w := l.Weight.Shape // Cin×Cout×K×K
		*out = append(*out, imgLayerStat{
			desc:   fmt.Sprintf("ConvT(%d→%d, k%d s%d p%d%s) → %s", w[0], w[1], w[2], l.Opt.Stride, l.Opt.Padding, imgBias(l.Bias), shape(y)),
			params: count(l.Parameters()), flops: imgConvFLOPs(w[0], w[2], w[1], x.Shape[2], x.Shape[3])})
		return y, nil
	case *nn.Linear:
		y := l.Forward(nil, x)
		w := l.Weight.Shape // out×in
		*out = append(*out, imgLayerStat{desc: fmt.Sprintf("Dense(%d→%d%s)", w[1], w[0], imgBias(l.Bias)),
			params: count(l.Parameters()), flops: 2 * int64(w[0]) * int64(w[1])})
		return y, nil
	case *nn.BatchNorm:
		*out = append(*out, imgLayerStat{desc: "BN", params: count(l.Parameters())})
		return l.Forward(nil, x), nil
	case nn.Func:
		y := l.Forward(nil, x)
		d := l.Name
		if strings.HasPrefix(d, "Reshape") || d == "Flatten" {
			d += " → " + shape(y)
		}
		*out = append(*out, imgLayerStat{desc: d})
		return y, nil
	}
	return nil, fmt.Errorf("suite: architecture walk: unknown layer %T", m)
}

func imgBias(b *tensor.Tensor) string {
	if b == nil {
		return ", no bias"
	}
	return ""
}

// imgNetwork walks m from an input of shape in (without the batch
// dimension) and sums it into a Network row.
func imgNetwork(name string, m nn.Module, in ...int) results.Network {
	nn.SetTraining(m, false)
	var st []imgLayerStat
	x := tensor.New(append([]int{1}, in...)...)
	if _, err := imgWalk(m, x, &st); err != nil {
		return results.Network{Name: name, Layers: err.Error()}
	}
	nw := results.Network{Name: name}
	var descs []string
	for _, s := range st {
		nw.Params += s.params
		nw.FLOPs += s.flops
		descs = append(descs, s.desc)
	}
	nw.Layers = strings.Join(descs, " | ")
	return nw
}

func imgArchFailed(method, input string, err error) results.Architecture {
	return results.Architecture{Method: method, Input: input, Networks: []results.Network{{Name: "unavailable", Layers: "could not build the network: " + err.Error()}}}
}

func imgGANHyper(schedule string, o ganomaly.Options) map[string]string {
	h := map[string]string{"schedule": schedule, "width": strconv.Itoa(o.Width), "nz": strconv.Itoa(o.NZ),
		"epochs": strconv.Itoa(o.Epochs), "batch": strconv.Itoa(o.BatchSize), "lr": strconv.FormatFloat(o.LR, 'g', -1, 64),
		"adam betas": fmt.Sprintf("%g, %g", o.Beta1, o.Beta2), "select": o.Select,
		"validation fraction": strconv.FormatFloat(o.ValFraction, 'g', -1, 64), "input": "28x28 padded to 32x32, scaled to [-1, 1]"}
	if o.MaxImages > 0 {
		h["max images"] = strconv.Itoa(o.MaxImages)
	}
	return h
}

// imgArchGAN describes GANomaly's networks at 1×32×32 with o's width and
// latent size.
func imgArchGAN(schedule string, o ganomaly.Options) results.Architecture {
	const input = "1x32x32"
	n, err := ganomaly.NewNetworks(ganomaly.NetConfig{Channels: 1, Side: 32, Width: o.Width, NZ: o.NZ,
		WAdv: float32(o.WAdv), WCon: float32(o.WCon), WEnc: float32(o.WEnc), LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2,
		ReinitBelow: float32(o.ReinitBelow)}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return imgArchFailed("ganomaly", input, err)
	}
	h := imgGANHyper(schedule, o)
	h["loss weights (adv, con, enc)"] = fmt.Sprintf("%g, %g, %g", o.WAdv, o.WCon, o.WEnc)
	return results.Architecture{Method: "ganomaly", Input: input, Hyper: h, Networks: []results.Network{
		imgNetwork("generator encoder G_E", n.GE, 1, 32, 32),
		imgNetwork("generator decoder G_D", n.GD, o.NZ, 1, 1),
		imgNetwork("second encoder E", n.E2, 1, 32, 32),
		imgNetwork("discriminator D (logit; sigmoid in the loss)", n.D, 1, 32, 32),
	}}
}

// imgArchCAE describes the CAE baseline: GANomaly's generator alone.
func imgArchCAE(schedule string, o ganomaly.Options) results.Architecture {
	const input = "1x32x32"
	r := rand.New(rand.NewPCG(0, 0))
	enc, err := ganomaly.NewEncoder(1, 32, o.Width, o.NZ, r)
	if err != nil {
		return imgArchFailed("cae", input, err)
	}
	dec, err := ganomaly.NewDecoder(1, 32, o.Width, o.NZ, r)
	if err != nil {
		return imgArchFailed("cae", input, err)
	}
	h := imgGANHyper(schedule, o)
	h["loss and score"] = "mean squared reconstruction error"
	return results.Architecture{Method: "cae", Input: input, Hyper: h, Networks: []results.Network{
		imgNetwork("encoder (G_E's layout)", enc, 1, 32, 32),
		imgNetwork("decoder (G_D's layout)", dec, o.NZ, 1, 1),
	}}
}

// imgArchDCEC describes the DCEC autoencoder at 1×28×28 with `oddity
// cluster`'s defaults.
func imgArchDCEC() results.Architecture {
	const input = "1x28x28"
	cfg := deepcluster.DefaultOptions()
	a, err := deepcluster.NewAutoencoder(1, 28, cfg.Embedding, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return imgArchFailed("deepcluster", input, err)
	}
	h := map[string]string{"k": "10 (MNIST)", "embedding": strconv.Itoa(cfg.Embedding), "pretrain epochs": strconv.Itoa(cfg.PretrainEpochs),
		"batch": strconv.Itoa(cfg.BatchSize), "lr": strconv.FormatFloat(cfg.LR, 'g', -1, 64), "kmeans init": strconv.Itoa(cfg.KMeansInit),
		"max steps": strconv.Itoa(cfg.MaxSteps), "update interval": strconv.Itoa(cfg.UpdateInterval), "tol": strconv.FormatFloat(cfg.Tol, 'g', -1, 64),
		"alpha": strconv.FormatFloat(cfg.Alpha, 'g', -1, 64), "gamma": strconv.FormatFloat(cfg.Gamma, 'g', -1, 64), "loss": cfg.Loss,
		"centroids": fmt.Sprintf("%d x %d trainable (not counted in the networks)", 10, cfg.Embedding)}
	return results.Architecture{Method: "deepcluster", Input: input, Hyper: h, Networks: []results.Network{
		imgNetwork("encoder", a.Encoder, 1, 28, 28),
		imgNetwork("decoder", a.Decoder, cfg.Embedding),
	}}
}
