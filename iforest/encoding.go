package iforest

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"runtime"
)

// Serialised layout (little-endian), version 1:
//
//	magic    "ODDIFRST" (8 bytes)
//	version  uint32
//	dim, psi, limit, nTrees, nNodes uint32
//	seed     uint64
//	maxFeat  float64
//	per tree: root uint32, depth uint32
//	per node: feat uint32, thr float32 bits, next uint32, val float64 bits
//	crc32    uint32 (IEEE) of everything before it
const (
	magic         = "ODDIFRST"
	formatVersion = 1
	headerSize    = 8 + 4 + 5*4 + 8 + 8
	treeSize      = 8
	nodeSize      = 20
)

// MarshalBinary encodes the fitted forest (see the layout above).
func (f *Forest) MarshalBinary() ([]byte, error) {
	if f == nil || len(f.roots) == 0 {
		return nil, fmt.Errorf("iforest marshal: %w: forest not fitted", ErrInput)
	}
	b := make([]byte, 0, headerSize+treeSize*len(f.roots)+nodeSize*len(f.nodes)+4)
	le := binary.LittleEndian
	b = append(b, magic...)
	b = le.AppendUint32(b, formatVersion)
	for _, v := range []int{f.dim, f.psi, f.limit, len(f.roots), len(f.nodes)} {
		b = le.AppendUint32(b, uint32(v))
	}
	b = le.AppendUint64(b, f.seed)
	b = le.AppendUint64(b, math.Float64bits(f.maxFeat))
	for t, r := range f.roots {
		b = le.AppendUint32(b, uint32(r))
		b = le.AppendUint32(b, uint32(f.depths[t]))
	}
	for i, nd := range f.nodes {
		b = le.AppendUint32(b, nd.feat)
		b = le.AppendUint32(b, math.Float32bits(nd.thr))
		b = le.AppendUint32(b, uint32(nd.next))
		b = le.AppendUint64(b, math.Float64bits(f.vals[i]))
	}
	return le.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// UnmarshalBinary decodes a forest written by MarshalBinary, replacing f.
// It checks the magic, version, checksum and the structure of every tree
// (each node reached exactly once, children after parents, feature indices
// in range, leaves within the height limit), so bytes that decode without
// error are safe to score with; anything else returns an error wrapping
// ErrCorrupt.
func (f *Forest) UnmarshalBinary(data []byte) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("iforest unmarshal: %w: %s", ErrCorrupt, fmt.Sprintf(format, a...))
	}
	if len(data) < headerSize+4 {
		return bad("%d bytes, shorter than the header", len(data))
	}
	if string(data[:8]) != magic {
		return bad("wrong magic %q", data[:8])
	}
	le := binary.LittleEndian
	if v := le.Uint32(data[8:]); v != formatVersion {
		return bad("unsupported version %d (this build reads %d)", v, formatVersion)
	}
	body, sum := data[:len(data)-4], le.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return bad("checksum mismatch")
	}
	p := 12
	u32 := func() int { v := le.Uint32(data[p:]); p += 4; return int(v) }
	dim, psi, limit, nTrees, nNodes := u32(), u32(), u32(), u32(), u32()
	seed := le.Uint64(data[p:])
	maxFeat := math.Float64frombits(le.Uint64(data[p+8:]))
	p += 16
	switch {
	case dim <= 0 || dim > 1<<28:
		return bad("dimension %d", dim)
	case psi <= 0 || psi > 1<<24:
		return bad("subsample size %d", psi)
	case limit != bitsLen(max(psi, 2)-1):
		return bad("height limit %d for subsample %d", limit, psi)
	case nTrees <= 0 || nNodes < nTrees || nNodes > 1<<31-1:
		return bad("%d trees, %d nodes", nTrees, nNodes)
	case !(maxFeat > 0 && maxFeat <= 1):
		return bad("max features %v", maxFeat)
	}
	if want := headerSize + treeSize*nTrees + nodeSize*nNodes + 4; len(data) != want {
		return bad("%d bytes, want %d for %d trees and %d nodes", len(data), want, nTrees, nNodes)
	}
	g := &Forest{dim: dim, psi: psi, limit: limit, seed: seed, maxFeat: maxFeat, workers: runtime.GOMAXPROCS(0)}
	g.roots = make([]int32, nTrees)
	g.depths = make([]uint8, nTrees)
	for t := range g.roots {
		g.roots[t] = int32(u32())
		g.depths[t] = uint8(min(u32(), 255))
	}
	g.nodes = make([]node, nNodes)
	g.vals = make([]float64, nNodes)
	for i := range g.nodes {
		g.nodes[i].feat = uint32(u32())
		g.nodes[i].thr = math.Float32frombits(uint32(u32()))
		g.nodes[i].next = int32(u32())
		g.vals[i] = math.Float64frombits(le.Uint64(data[p:]))
		p += 8
	}
	if err := g.validate(); err != nil {
		return bad("%v", err)
	}
	g.denom = float64(nTrees) * AveragePathLength(psi)
	*f = *g
	return nil
}

func bitsLen(v int) int {
	n := 0
	for v > 0 {
		n++
		v >>= 1
	}
	return n
}

// validate checks the tree structure so that a fixed-depth walk from any
// root stays in bounds and ends on a leaf.
func (f *Forest) validate() error {
	if f.roots[0] != 0 {
		return fmt.Errorf("first tree starts at node %d", f.roots[0])
	}
	depthOf := make([]int, len(f.nodes))
	for t := range f.roots {
		start := int(f.roots[t])
		end := len(f.nodes)
		if t+1 < len(f.roots) {
			end = int(f.roots[t+1])
		}
		if end <= start || end > len(f.nodes) {
			return fmt.Errorf("tree %d spans nodes [%d, %d)", t, start, end)
		}
		if int(f.depths[t]) > f.limit {
			return fmt.Errorf("tree %d depth %d over limit %d", t, f.depths[t], f.limit)
		}
		// Nodes are stored parents first; every non-root node must be the
		// child of exactly one earlier node.
		reached := make([]bool, end-start)
		reached[0] = true
		depthOf[start] = 0
		maxDepth := 0
		for i := start; i < end; i++ {
			if !reached[i-start] {
				return fmt.Errorf("tree %d node %d is unreachable", t, i)
			}
			nd := f.nodes[i]
			v := f.vals[i]
			if math.IsInf(float64(nd.thr), 1) && int(nd.next) == i {
				if !(v >= 0 && v <= float64(f.limit)+AveragePathLength(f.psi)) {
					return fmt.Errorf("tree %d leaf %d has path length %v", t, i, v)
				}
				maxDepth = max(maxDepth, depthOf[i])
				continue
			}
			if int(nd.feat) >= f.dim || math.IsNaN(float64(nd.thr)) || math.IsInf(float64(nd.thr), 0) {
				return fmt.Errorf("tree %d node %d splits feature %d at %v", t, i, nd.feat, nd.thr)
			}
			c := int(nd.next)
			if c <= i || c+1 >= end {
				return fmt.Errorf("tree %d node %d has children %d, %d outside (%d, %d)", t, i, c, c+1, i, end)
			}
			if depthOf[i]+1 > int(f.depths[t]) {
				return fmt.Errorf("tree %d node %d at depth %d has children below depth %d", t, i, depthOf[i], f.depths[t])
			}
			for _, ch := range []int{c, c + 1} {
				if reached[ch-start] {
					return fmt.Errorf("tree %d node %d is reached twice", t, ch)
				}
				reached[ch-start] = true
				depthOf[ch] = depthOf[i] + 1
			}
		}
		if maxDepth != int(f.depths[t]) {
			return fmt.Errorf("tree %d records depth %d, deepest leaf at %d", t, f.depths[t], maxDepth)
		}
	}
	return nil
}
