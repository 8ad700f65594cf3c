package cae

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/dcgan"
)

// netStream seeds the networks' initialisation (ASCII "NET", as in package
// ganomaly).
const netStream = 0x4e4554

// build makes the autoencoder for the geometry, drawn from the options'
// seed.
func build(o Options, geo dcgan.Geometry) (*autoencoder, error) {
	return newAutoencoder(geo.C, geo.S, o, rand.New(rand.NewPCG(o.Seed, netStream)))
}

// schedule is the training loop's view of the options.
func (o Options) schedule() dcgan.Schedule {
	return dcgan.Schedule{Epochs: o.Epochs, BatchSize: o.BatchSize, MaxImages: o.MaxImages,
		ValFraction: o.ValFraction, SelectVal: o.Select == SelectVal, NZ: o.NZ, Seed: o.Seed}
}

// train fits the autoencoder on the images x with the training loop it
// shares with GANomaly (internal/dcgan.Train): Adam steps on the
// reconstruction loss over shuffled batches, the validation reconstruction
// loss after each epoch, and the epoch Options.Select keeps.
func train(ctx context.Context, o Options, x *data.Dataset, progress func(detector.Progress)) (*dcgan.Fitted, error) {
	geo, err := dcgan.NewGeometry(x.Shape, o.Side, o.FitMode)
	if err != nil {
		return nil, fmt.Errorf("cae: %w", err)
	}
	net, err := build(o, geo)
	if err != nil {
		return nil, fmt.Errorf("cae: %w", err)
	}
	f, err := dcgan.Train(ctx, net, geo, x, o.schedule(), progress)
	if err != nil {
		return nil, fmt.Errorf("cae: %w", err)
	}
	return f, nil
}
