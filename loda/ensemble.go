package loda

// Projection returns projection t's features (ascending) and weights,
// sharing storage.
func (e *Ensemble) Projection(t int) (features []int32, weights []float32) {
	return e.feat[t*e.m : (t+1)*e.m], e.w[t*e.m : (t+1)*e.m]
}

// Histogram returns projection t's bin edges (Bins+1 values, ascending)
// and densities, sharing storage.
func (e *Ensemble) Histogram(t int) (edges, density []float64) {
	return e.edges[t*(e.bins+1) : (t+1)*(e.bins+1)], e.density[t*e.bins : (t+1)*e.bins]
}

// K returns the number of projections.
func (e *Ensemble) K() int { return e.k }
