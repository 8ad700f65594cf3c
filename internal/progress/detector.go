package progress

import (
	"io"
	"os"
	"sync"

	"github.com/oddity-ml/oddity/detector"
)

// Phases turns a detector's progress reports (detector.TrainSet.Progress)
// into bars: one bar a phase, started when the phase's first report
// arrives and finished when the next phase starts or Close is called.
// Detectors never print; the commands attach a Phases.
type Phases struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	prefix string
	phase  string
	total  int
	done   int
	bar    *Bar
}

// NewPhases reports to stderr, each bar described as prefix and the
// phase's name. A nil *Phases reports nothing.
func NewPhases(prefix string) *Phases {
	return &Phases{w: os.Stderr, tty: isTerminal(os.Stderr), prefix: prefix}
}

// NewPhasesTo reports to w (an animated bar when tty is true).
func NewPhasesTo(w io.Writer, prefix string, tty bool) *Phases {
	return &Phases{w: w, tty: tty, prefix: prefix}
}

// Report is the callback to put in detector.TrainSet.Progress.
func (p *Phases) Report(r detector.Progress) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil || r.Phase != p.phase || r.Total != p.total || r.Done < p.done {
		if p.bar != nil {
			p.bar.Finish()
		}
		desc := r.Phase
		if p.prefix != "" {
			desc = p.prefix + " " + r.Phase
		}
		p.bar = NewTo(p.w, desc, r.Total, p.tty)
		p.phase, p.total, p.done = r.Phase, r.Total, 0
	}
	p.bar.Add(r.Done-p.done, r.Metrics)
	p.done = r.Done
}

// Close finishes the current bar.
func (p *Phases) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
