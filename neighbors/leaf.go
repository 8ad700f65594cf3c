package neighbors

// The tree's two inner loops, the distances from a query to a leaf's rows
// and to the boxes of a node's two children, run as SIMD kernels where the
// CPU has them (leaf_amd64.s) and as the plain-Go functions below
// elsewhere. Both compute exactly sqDist's and boxDist's sums, bit for
// bit: every lane adds its squares into four accumulators by feature
// l mod 4, each square rounded before it is added (separate multiply and
// add instructions, never a fused multiply-add), and the accumulators are
// joined as (s0+s1)+(s2+s3). IEEE addition and multiplication are
// correctly rounded and commutative, so the order of lanes changes
// nothing; only the order of the additions into each accumulator matters,
// and that is the order of the features in every version.

// lanes is how many rows a leaf block holds: a leaf's rows are stored in
// blocks of lanes rows, feature by feature (feature l of the block's row j
// at l·lanes + j), so that one vector instruction takes feature l of
// lanes rows (two AVX2 registers or one AVX-512 register of float64).
const lanes = 8

// leafDistsGo writes to dist[b·lanes + j] the squared distance, summed
// as sqDist sums it, from q (its first d values) to row j of block b of
// blk, for the len(dist)/lanes blocks of d·lanes values in blk, and sets
// bit j of mask[b] when that distance is at most bound. Rows that pad a
// leaf's last block get a distance and a bit too, which the caller
// ignores.
func leafDistsGo(q []float64, blk []float32, d int, bound float64, dist []float64, mask []uint8) {
	nb := len(dist) / lanes
	blk, mask = blk[:nb*lanes*d], mask[:nb]
	q = q[:d]
	for b := range nb {
		x := blk[b*lanes*d : (b+1)*lanes*d]
		var s [4][lanes]float64
		for l, v := range q {
			xl := x[l*lanes : (l+1)*lanes]
			a := &s[l&3]
			for j := range lanes {
				g := v - float64(xl[j])
				a[j] += float64(g * g)
			}
		}
		o := dist[b*lanes : (b+1)*lanes]
		var m uint8
		for j := range lanes {
			o[j] = (s[0][j] + s[1][j]) + (s[2][j] + s[3][j])
			if o[j] <= bound {
				m |= 1 << j
			}
		}
		mask[b] = m
	}
}

// boxPairGo returns boxDist from q to the boxes of two sibling nodes,
// stored as kdTree.boxAt lays them out: for each group of 4 features the
// first node's lower bounds then the second's (box[:2dp]), then their
// upper bounds alike (box[2dp:4dp]). dp is the number of features rounded
// up to a multiple of 4, q and the boxes padded with zeros, which add zero
// gaps (0 + 0 leaves an accumulator unchanged). The sums are boxDist's:
// feature l's squared gap goes to accumulator l mod 4, in feature order.
func boxPairGo(q, box []float64, dp int) (dl, dr float64) {
	box = box[:4*dp]
	q = q[:dp]
	var sl, sr [4]float64
	for l, v := range q {
		o := l/4*8 + l%4
		sl[l&3] += gap2(v, box[o], box[2*dp+o])
		sr[l&3] += gap2(v, box[o+4], box[2*dp+o+4])
	}
	return (sl[0] + sl[1]) + (sl[2] + sl[3]), (sr[0] + sr[1]) + (sr[2] + sr[3])
}

// gap2 is boxDist's squared gap between v and [lo, hi].
func gap2(v, lo, hi float64) float64 {
	a, b := lo-v, v-hi
	var g float64
	if a > 0 {
		g = a
	}
	if b > 0 {
		g = b
	}
	return float64(g * g)
}

// leafDists is leafDistsGo, by the fastest kernel the CPU has.
func leafDists(q []float64, blk []float32, d int, bound float64, dist []float64, mask []uint8) {
	if len(dist) == 0 {
		return
	}
	if !leafDistsAsm(q, blk, d, bound, dist, mask) {
		leafDistsGo(q, blk, d, bound, dist, mask)
	}
}

// boxPair is boxPairGo, by the fastest kernel the CPU has.
func boxPair(q, box []float64, dp int) (dl, dr float64) {
	if dl, dr, ok := boxPairAsm(q, box, dp); ok {
		return dl, dr
	}
	return boxPairGo(q, box, dp)
}
