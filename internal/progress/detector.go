package progress

import (
	"io"
	"os"
	"sync"

	"github.com/oddity-ml/oddity/detector"
)

// Phases turns a detector's progress reports (detector.TrainSet.Progress)
// into bars: one bar a phase, started by the phase's first report. A
// phase's bar is finished when the phase starts over (its Done goes back
// or its Total changes, as a per-epoch "batch" phase does each epoch) and
// by Close; reports of another phase in between do not end it, so an
// "epoch" bar lives through the epochs' "batch" bars. Detectors never
// print; the commands attach a Phases.
type Phases struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	prefix string
	order  []string
	bars   map[string]*phaseBar
}

type phaseBar struct {
	bar         *Bar
	total, done int
}

// NewPhases reports to stderr, each bar described as prefix and the
// phase's name. A nil *Phases reports nothing.
func NewPhases(prefix string) *Phases {
	return &Phases{w: os.Stderr, tty: isTerminal(os.Stderr), prefix: prefix, bars: map[string]*phaseBar{}}
}

// NewPhasesTo reports to w (an animated bar when tty is true).
func NewPhasesTo(w io.Writer, prefix string, tty bool) *Phases {
	return &Phases{w: w, tty: tty, prefix: prefix, bars: map[string]*phaseBar{}}
}

// Report is the callback to put in detector.TrainSet.Progress.
func (p *Phases) Report(r detector.Progress) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.bars[r.Phase]
	if b != nil && (r.Total != b.total || r.Done < b.done) {
		b.bar.Finish()
		b = nil
	}
	if b == nil {
		desc := r.Phase
		if p.prefix != "" {
			desc = p.prefix + " " + r.Phase
		}
		if _, seen := p.bars[r.Phase]; !seen {
			p.order = append(p.order, r.Phase)
		}
		b = &phaseBar{bar: NewTo(p.w, desc, r.Total, p.tty), total: r.Total}
		p.bars[r.Phase] = b
	}
	b.bar.Add(r.Done-b.done, r.Metrics)
	b.done = r.Done
}

// Close finishes every open bar, in the order their phases began.
func (p *Phases) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ph := range p.order {
		if b := p.bars[ph]; b != nil {
			b.bar.Finish()
			p.bars[ph] = nil
		}
	}
}
