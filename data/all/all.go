// Package all registers every data format of the project with package data;
// import it for its side effect:
//
//	import _ "github.com/oddity-ml/oddity/data/all"
package all

import (
	_ "github.com/oddity-ml/oddity/data/csvfile"     // csv, uci-data
	_ "github.com/oddity-ml/oddity/data/idx"         // idx
	_ "github.com/oddity-ml/oddity/data/imagefolder" // imagefolder (dirs, tar, tar.gz)
	_ "github.com/oddity-ml/oddity/data/matfile"     // mat
	_ "github.com/oddity-ml/oddity/data/npy"         // npy, npz
)
