package umap

import "math"

// curvePoints is the number of distances in [0, 3·spread] the similarity
// curve is fitted on (umap-learn's).
const curvePoints = 300

// fitAB fits 1/(1 + a·d^(2b)) by least squares to the target similarity
// that is 1 for d < minDist and exp(-(d - minDist)/spread) beyond, on
// curvePoints evenly spaced distances in [0, 3·spread] (paper §3.2). It
// runs Levenberg–Marquardt from a = b = 1, as scipy's curve_fit does for
// umap-learn.
func fitAB(minDist, spread float64) (a, b float64) {
	xs := make([]float64, curvePoints)
	ys := make([]float64, curvePoints)
	for i := range xs {
		x := 3 * spread * float64(i) / float64(curvePoints-1)
		xs[i] = x
		ys[i] = 1
		if x >= minDist {
			ys[i] = math.Exp(-(x - minDist) / spread)
		}
	}
	a, b = 1, 1
	cost := curveCost(xs, ys, a, b)
	lambda := 1e-3
	for range 200 {
		// Normal equations of the linearised residuals r = g(x) - y.
		var jaa, jab, jbb, ga, gb float64
		for i, x := range xs {
			g, da, db := curveGrad(x, a, b)
			r := g - ys[i]
			jaa += da * da
			jab += da * db
			jbb += db * db
			ga += da * r
			gb += db * r
		}
		improved := false
		for range 30 {
			m00, m11 := jaa*(1+lambda), jbb*(1+lambda)
			det := m00*m11 - jab*jab
			if det == 0 {
				lambda *= 10
				continue
			}
			sa := -(m11*ga - jab*gb) / det
			sb := -(m00*gb - jab*ga) / det
			na, nb := a+sa, b+sb
			if na > 0 && nb > 0 {
				if c := curveCost(xs, ys, na, nb); c < cost {
					done := cost-c < 1e-15*(1+cost)
					a, b, cost = na, nb, c
					lambda = max(lambda/10, 1e-12)
					improved = true
					if done {
						return a, b
					}
					break
				}
			}
			lambda *= 10
		}
		if !improved {
			break
		}
	}
	return a, b
}

// curveGrad returns 1/(1 + a·x^(2b)) and its derivatives in a and b.
func curveGrad(x, a, b float64) (g, da, db float64) {
	if x == 0 {
		return 1, 0, 0
	}
	u := math.Pow(x, 2*b)
	den := 1 + a*u
	g = 1 / den
	da = -u / (den * den)
	db = -a * u * 2 * math.Log(x) / (den * den)
	return g, da, db
}

// curveCost is the sum of squared residuals of the fit.
func curveCost(xs, ys []float64, a, b float64) float64 {
	var s float64
	for i, x := range xs {
		g, _, _ := curveGrad(x, a, b)
		s += (g - ys[i]) * (g - ys[i])
	}
	return s
}
