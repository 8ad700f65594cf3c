package dplan

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/kernels"
	"github.com/oddity-ml/oddity/optim"
)

// Random streams: one per purpose.
const (
	streamInit   = 0x444e_4954 // network initialisation
	streamEnv    = 0x454e_56   // sampler
	streamAgent  = 0x4147_4e54 // epsilon-greedy and minibatches
	streamForest = 0x4652_5354 // seeds of the intrinsic forests
)

// replay is the ring-buffer replay memory of transitions (s, a, r, s',
// terminal) with states stored as point indices.
type replay struct {
	s, s2 []int32
	a     []uint8
	r     []float32
	done  []bool
	pos   int
	size  int
}

func newReplay(capacity int) *replay {
	return &replay{s: make([]int32, capacity), s2: make([]int32, capacity), a: make([]uint8, capacity),
		r: make([]float32, capacity), done: make([]bool, capacity)}
}

func (m *replay) add(s, a int, r float32, s2 int, done bool) {
	m.s[m.pos], m.a[m.pos], m.r[m.pos], m.s2[m.pos], m.done[m.pos] = int32(s), uint8(a), r, int32(s2), done
	m.pos = (m.pos + 1) % len(m.s)
	m.size = min(m.size+1, len(m.s))
}

// EpisodeStats summarises one training episode.
type EpisodeStats struct {
	// Episode counts from 1.
	Episode int `json:"episode"`
	// Reward is the mean total reward per step; Extrinsic its extrinsic part.
	Reward    float64 `json:"reward"`
	Extrinsic float64 `json:"extrinsic"`
	// Loss is the mean TD loss of the updates (NaN when none ran).
	Loss float64 `json:"loss"`
	// Updates counts network updates in the episode.
	Updates int `json:"updates"`
	// Epsilon is the exploration rate at the episode's end.
	Epsilon float64 `json:"epsilon"`
	// AnomalyRate is the share of a1 actions.
	AnomalyRate float64 `json:"anomaly_rate"`
}

// agent trains the DQN in the environment.
type agent struct {
	o              Options
	env            *env
	online, target *QNet
	opt            *optim.RMSprop
	rng            *rand.Rand
	mem            *replay
	d, h           int

	// Reused buffers.
	hs, qs             []float32
	bx, bx2            []float32
	bh, bh2, bh3, dh   []float32
	bq, bq2, bq3       []float32
	gW1, gB1, gW2, gB2 []float32
	slots              []int
	ys                 []float32
}

func newAgent(o Options, x []float32, nU, nA, d int) (*agent, error) {
	init := rand.New(rand.NewPCG(o.Seed, streamInit))
	online, err := NewQNet(d, o.Hidden, init)
	if err != nil {
		return nil, err
	}
	target, _ := NewQNet(d, o.Hidden, init)
	target.copyFrom(online)
	opt, err := optim.NewRMSprop(online.Params(), optim.RMSpropConfig{LR: o.LR, Alpha: o.Alpha, Eps: o.RMSEps, Momentum: o.Momentum})
	if err != nil {
		return nil, err
	}
	h, b := o.Hidden, o.BatchSize
	ag := &agent{
		o: o, online: online, target: target, opt: opt, d: d, h: h,
		env: newEnv(x, nU, nA, d, h, o.P, o.Subset, rand.New(rand.NewPCG(o.Seed, streamEnv))),
		rng: rand.New(rand.NewPCG(o.Seed, streamAgent)),
		mem: newReplay(o.Memory),
		hs:  make([]float32, h), qs: make([]float32, nActions),
		bx: make([]float32, b*d), bx2: make([]float32, b*d),
		bh: make([]float32, b*h), bh2: make([]float32, b*h), bh3: make([]float32, b*h), dh: make([]float32, b*h),
		bq: make([]float32, b*nActions), bq2: make([]float32, b*nActions), bq3: make([]float32, b*nActions),
		slots: make([]int, b), ys: make([]float32, b),
	}
	ag.gW1, ag.gB1, ag.gW2, ag.gB2 = online.W1.Grad(), online.B1.Grad(), online.W2.Grad(), online.B2.Grad()
	return ag, nil
}

// epsilon is the linear schedule at global step t.
func (ag *agent) epsilon(t int) float64 {
	o := ag.o
	if o.EpsSteps == 0 {
		return o.EpsEnd
	}
	return max(o.EpsEnd, o.EpsStart-(o.EpsStart-o.EpsEnd)*float64(t)/float64(o.EpsSteps))
}

func argmax2(q []float32) int {
	if q[1] > q[0] {
		return 1
	}
	return 0
}

// run trains for o.Episodes episodes, reporting each to report.
func (ag *agent) run(ctx context.Context, report func(EpisodeStats)) error {
	o := ag.o
	forestSeeds := rand.New(rand.NewPCG(o.Seed, streamForest))
	t := 0
	for ep := 0; ep < o.Episodes; ep++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		fseed := forestSeeds.Uint64()
		switch {
		case o.IntrinsicScale == 0:
		case o.IntrinsicFeatures == FeaturesHidden:
			if err := ag.env.refitIntrinsic(ag.online, o.ForestTrees, o.ForestSamples, fseed, o.Workers); err != nil {
				return err
			}
		case ep == 0:
			if err := ag.env.refitIntrinsic(nil, o.ForestTrees, o.ForestSamples, fseed, o.Workers); err != nil {
				return err
			}
		}
		st := EpisodeStats{Episode: ep + 1}
		var lossSum float64
		s := ag.env.reset()
		for k := 0; k < o.StepsPerEpisode; k, t = k+1, t+1 {
			if k%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			eps := ag.epsilon(t)
			ag.online.Forward(ag.qs, ag.hs, ag.env.row(s), 1)
			a := argmax2(ag.qs)
			if ag.rng.Float64() < eps {
				a = ag.rng.IntN(nActions)
			}
			re := Extrinsic(ag.env.labelled(s), a)
			r := re + float32(o.IntrinsicScale)*ag.env.rint[s]
			s2 := ag.env.next(ag.online, ag.hs, a)
			done := k == o.StepsPerEpisode-1
			ag.mem.add(s, a, r, s2, done)
			st.Reward += float64(r)
			st.Extrinsic += float64(re)
			st.AnomalyRate += float64(a)
			if t >= o.Warmup && ag.mem.size >= o.BatchSize {
				lossSum += ag.learn()
				st.Updates++
			}
			if (t+1)%o.TargetUpdate == 0 {
				ag.target.copyFrom(ag.online)
			}
			st.Epsilon = eps
			s = s2
		}
		n := float64(o.StepsPerEpisode)
		st.Reward /= n
		st.Extrinsic /= n
		st.AnomalyRate /= n
		st.Loss = math.NaN()
		if st.Updates > 0 {
			st.Loss = lossSum / float64(st.Updates)
		}
		if report != nil {
			report(st)
		}
	}
	return nil
}

// learn runs one minibatch update of the online network and returns the
// mean TD loss (without the L2 term).
func (ag *agent) learn() float64 {
	o, d, b := ag.o, ag.d, ag.o.BatchSize
	m := ag.mem
	for i := 0; i < b; i++ {
		j := ag.rng.IntN(m.size)
		ag.slots[i] = j
		copy(ag.bx[i*d:(i+1)*d], ag.env.row(int(m.s[j])))
		copy(ag.bx2[i*d:(i+1)*d], ag.env.row(int(m.s2[j])))
	}
	ag.target.Forward(ag.bq2, ag.bh2, ag.bx2, b)
	if o.DoubleDQN {
		ag.online.Forward(ag.bq3, ag.bh3, ag.bx2, b)
	}
	gamma := float32(o.Gamma)
	for i, j := range ag.slots {
		var v float32
		if o.DoubleDQN {
			v = ag.bq2[2*i+argmax2(ag.bq3[2*i:2*i+2])]
		} else {
			v = max(ag.bq2[2*i], ag.bq2[2*i+1])
		}
		y := m.r[j]
		if !m.done[j] {
			y += gamma * v
		}
		ag.ys[i] = y
	}
	ag.online.Forward(ag.bq, ag.bh, ag.bx, b)
	// dL/dQ: only the taken action's output gets a gradient; bq is
	// overwritten with it.
	var loss float64
	inv := 1 / float32(b)
	for i, j := range ag.slots {
		a := int(m.a[j])
		delta := ag.bq[2*i+a] - ag.ys[i]
		g := delta
		switch {
		case o.Loss == LossHuber && delta > 1:
			g = 1
			loss += float64(delta) - 0.5
		case o.Loss == LossHuber && delta < -1:
			g = -1
			loss += float64(-delta) - 0.5
		default:
			loss += 0.5 * float64(delta) * float64(delta)
		}
		ag.bq[2*i], ag.bq[2*i+1] = 0, 0
		ag.bq[2*i+a] = g * inv
	}
	ag.backward(ag.bq, ag.bh, ag.bx, b)
	ag.opt.Step()
	return loss / float64(b)
}

// backward writes into the online network's gradient buffers the gradient
// of the loss whose derivative with respect to the outputs is dq (b × 2),
// for inputs x and hidden activations hid, plus the L2 penalty's 2·L2·W1.
func (ag *agent) backward(dq, hid, x []float32, b int) {
	h, d := ag.h, ag.d
	q := ag.online
	clear(ag.gW2)
	clear(ag.gB2)
	w20, w21 := q.W2.Data[:h], q.W2.Data[h:2*h]
	g0, g1 := ag.gW2[:h], ag.gW2[h:2*h]
	for i := 0; i < b; i++ {
		d0, d1 := dq[2*i], dq[2*i+1]
		ag.gB2[0] += d0
		ag.gB2[1] += d1
		r := hid[i*h : (i+1)*h]
		dh := ag.dh[i*h : (i+1)*h]
		for j, v := range r {
			g0[j] += d0 * v
			g1[j] += d1 * v
			if v > 0 {
				dh[j] = d0*w20[j] + d1*w21[j]
			} else {
				dh[j] = 0
			}
		}
	}
	clear(ag.gB1)
	for i := 0; i < b; i++ {
		for j, v := range ag.dh[i*h : (i+1)*h] {
			ag.gB1[j] += v
		}
	}
	// gW1 = dhᵀ·x + 2·L2·W1.
	copy(ag.gW1, q.W1.Data)
	kernels.Sgemm(true, false, h, d, b, 1, ag.dh[:b*h], h, x[:b*d], d, float32(2*ag.o.L2), ag.gW1, d)
}
