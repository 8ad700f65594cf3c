package experiments

import (
	"github.com/oddity-ml/oddity/suite/results"

	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/dplan"
	"github.com/oddity-ml/oddity/suite"
	"github.com/oddity-ml/oddity/tensor"
)

// The tabular methods' rows of the architecture table, for the 21 features
// of UCI thyroid. Parameter counts and layer widths are read from the
// networks the packages build, not typed in: DPLAN's Q-network from
// dplan.NewQNet; DevNet, Deep SAD and the autoencoder keep their networks
// private, so each is fitted for a moment (a few steps on 16 synthetic rows)
// and its stored tensors (Marshal) are counted. FLOPs per sample count the
// dense layers' multiply-adds as two operations each (2·in·out per layer);
// bias additions and activations are left out.

func init() { suite.RegisterArchitectures(tabularArchitectures) }

// tabArchDim is UCI thyroid's feature count.
const tabArchDim = 21

// tabArchInput names the input the figures refer to.
const tabArchInput = "21 (UCI thyroid features)"

func tabularArchitectures() []results.Architecture {
	return []results.Architecture{tabArchDPLAN(), tabArchDevNet(), tabArchDeepSAD(), tabArchAutoencoder()}
}

// tabArchSetup parses a method's default settings (plus overrides) under the
// adbench protocol; the protocol's settings do not enter the rows.
func tabArchSetup(method string, overrides map[string]string) (*tabSetup, error) {
	p := map[string]string{"protocol": "adbench"}
	for k, v := range overrides {
		p[k] = v
	}
	return parseTabular(method, p)
}

// tabArchFailed is the row of a method whose network could not be built.
func tabArchFailed(method string, err error) results.Architecture {
	return results.Architecture{Method: method, Input: tabArchInput,
		Networks: []results.Network{{Name: "unavailable", Layers: "could not build the network: " + err.Error()}}}
}

// tabDenseStack describes a stack of dense layers from its tensors: 2-D
// tensors are weights (out × in, PyTorch's layout), the rest biases. It
// returns the widths (input first), the parameter count and the FLOPs per
// sample.
func tabDenseStack(ts []*tensor.Tensor) (widths []int, params, flops int64) {
	for _, t := range ts {
		params += int64(t.Len())
		if len(t.Shape) == 2 {
			out, in := t.Shape[0], t.Shape[1]
			if len(widths) == 0 {
				widths = append(widths, in)
			}
			widths = append(widths, out)
			flops += 2 * int64(in) * int64(out)
		}
	}
	return widths, params, flops
}

// tabLayerText writes widths in the architecture table's layout,
// "Dense(21→20) | ReLU | Dense(20→2)"; acts[i] is the activation after
// layer i ("" for none) and out, when not empty, names the output.
func tabLayerText(widths []int, acts []string, bias bool, out string) string {
	var parts []string
	nb := ""
	if !bias {
		nb = ", no bias"
	}
	for i := 1; i < len(widths); i++ {
		parts = append(parts, fmt.Sprintf("Dense(%d→%d%s)", widths[i-1], widths[i], nb))
		if i-1 < len(acts) && acts[i-1] != "" {
			parts = append(parts, acts[i-1])
		}
	}
	s := strings.Join(parts, " | ")
	if out != "" {
		s += " → " + out
	}
	return s
}

// tabArchFit fits the detector of method (with short-schedule overrides) on
// synthetic 21-feature rows and returns its stored tensors.
func tabArchFit(method string, overrides map[string]string) ([]*tensor.Tensor, *tabSetup, error) {
	st, err := tabArchSetup(method, overrides)
	if err != nil {
		return nil, nil, err
	}
	det, err := st.fresh(0)
	if err != nil {
		return nil, nil, err
	}
	r := rand.New(rand.NewPCG(0, 0xa7c))
	rows := func(n int, shift float32) *data.Dataset {
		x := make([]float32, n*tabArchDim)
		for i := range x {
			x[i] = r.Float32()*0.5 + shift
		}
		return &data.Dataset{Name: "arch", X: x, N: n, Shape: []int{tabArchDim}}
	}
	if err := det.Fit(context.Background(), detector.TrainSet{X: rows(16, 0), Anomalies: rows(4, 0.5)}); err != nil {
		return nil, nil, err
	}
	p, err := det.Marshal()
	if err != nil {
		return nil, nil, err
	}
	return p.Tensors, st, nil
}

func tabArchDPLAN() results.Architecture {
	st, err := tabArchSetup("dplan", nil)
	if err != nil {
		return tabArchFailed("dplan", err)
	}
	det, err := st.fresh(0)
	if err != nil {
		return tabArchFailed("dplan", err)
	}
	o := det.(*dplan.Detector).Options
	q, err := dplan.NewQNet(tabArchDim, o.Hidden, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return tabArchFailed("dplan", err)
	}
	w, p, f := tabDenseStack(q.Params())
	return results.Architecture{Method: "dplan", Input: tabArchInput, Hyper: st.methodParams(), Networks: []results.Network{
		{Name: "Q-network (online; the target network is a copy)", Layers: tabLayerText(w, []string{"ReLU"}, true, "Q(s,a0), Q(s,a1)"), Params: p, FLOPs: f},
	}}
}

func tabArchDevNet() results.Architecture {
	ts, _, err := tabArchFit("devnet", map[string]string{"epochs": "1", "batches": "1", "batch": "2", "ref-size": "2"})
	if err != nil {
		return tabArchFailed("devnet", err)
	}
	w, p, f := tabDenseStack(ts)
	st, err := tabArchSetup("devnet", nil) // the defaults, not the short fit's
	if err != nil {
		return tabArchFailed("devnet", err)
	}
	return results.Architecture{Method: "devnet", Input: tabArchInput, Hyper: st.methodParams(), Networks: []results.Network{
		{Name: "scoring network", Layers: tabLayerText(w, []string{"ReLU"}, true, "anomaly score"), Params: p, FLOPs: f},
	}}
}

func tabArchDeepSAD() results.Architecture {
	ts, _, err := tabArchFit("deepsad", map[string]string{"ae-epochs": "0", "epochs": "0"})
	if err != nil {
		return tabArchFailed("deepsad", err)
	}
	w, p, f := tabDenseStack(ts)
	st, err := tabArchSetup("deepsad", nil)
	if err != nil {
		return tabArchFailed("deepsad", err)
	}
	acts := make([]string, len(w)-1)
	for i := range acts[:len(acts)-1] {
		acts[i] = "LeakyReLU(0.01)"
	}
	// The pretraining decoder mirrors φ with transposed, bias-free weights:
	// the same parameter count and FLOPs, the widths reversed.
	rev := make([]int, len(w))
	for i := range w {
		rev[i] = w[len(w)-1-i]
	}
	dacts := append([]string(nil), acts...)
	dacts[len(dacts)-1] = "sigmoid"
	return results.Architecture{Method: "deepsad", Input: tabArchInput, Hyper: st.methodParams(), Networks: []results.Network{
		{Name: "encoder φ (scored: ‖φ(x) − c‖²)", Layers: tabLayerText(w, acts, false, "φ(x)"), Params: p, FLOPs: f},
		{Name: "decoder (autoencoder pretraining only)", Layers: tabLayerText(rev, dacts, false, ""), Params: p, FLOPs: f},
	}}
}

func tabArchAutoencoder() results.Architecture {
	ts, _, err := tabArchFit("autoencoder", map[string]string{"epochs": "1"})
	if err != nil {
		return tabArchFailed("autoencoder", err)
	}
	w, p, f := tabDenseStack(ts)
	st, err := tabArchSetup("autoencoder", nil)
	if err != nil {
		return tabArchFailed("autoencoder", err)
	}
	acts := make([]string, len(w)-1)
	for i := range acts[:len(acts)-1] {
		acts[i] = "ReLU"
	}
	return results.Architecture{Method: "autoencoder", Input: tabArchInput, Hyper: st.methodParams(), Networks: []results.Network{
		{Name: "dense autoencoder (score: mean squared reconstruction error)", Layers: tabLayerText(w, acts, true, ""), Params: p, FLOPs: f},
	}}
}
