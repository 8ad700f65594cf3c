// Package all registers every detector of oddity: import it for its side
// effect, as the CLI, the server and the benchmark runner do, so that
// detector.Lookup, detector.Methods and model loading know every method.
//
//	import _ "github.com/oddity-ml/oddity/detector/all"
//
// A new detector package adds itself here; the conformance test
// (detector/detectortest) then fails until the method has a case.
package all

import (
	_ "github.com/oddity-ml/oddity/autoencoder"
	_ "github.com/oddity-ml/oddity/cae"
	_ "github.com/oddity-ml/oddity/copod"
	_ "github.com/oddity-ml/oddity/deepcluster"
	_ "github.com/oddity-ml/oddity/deepsad"
	_ "github.com/oddity-ml/oddity/devnet"
	_ "github.com/oddity-ml/oddity/dplan"
	_ "github.com/oddity-ml/oddity/ecod"
	_ "github.com/oddity-ml/oddity/ganomaly"
	_ "github.com/oddity-ml/oddity/hbos"
	_ "github.com/oddity-ml/oddity/iforest"
	_ "github.com/oddity-ml/oddity/knn"
	_ "github.com/oddity-ml/oddity/loda"
	_ "github.com/oddity-ml/oddity/lof"
	_ "github.com/oddity-ml/oddity/ocsvm"
	_ "github.com/oddity-ml/oddity/pca"
)
