package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
)

// budget bounds the bytes of request bodies held at once.
type budget struct {
	used atomic.Int64
	max  int64
}

// take reserves n bytes, reporting false (and reserving nothing) when that
// would pass the bound.
func (b *budget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *budget) give(n int64) { b.used.Add(-n) }

// gcEvery is the fraction of MaxBodyMemory of dropped body buffers after
// which a garbage collection is forced (see dropped).
const gcEvery = 4

// minTracked is the smallest dropped buffer counted towards a forced
// collection: small bodies are the ordinary garbage the collector paces
// itself for.
const minTracked = 1 << 20

// dropped records that a body buffer of n bytes became garbage. Large
// bodies arrive faster than the collector's pacing expects (it lets the
// heap grow to twice what was live at the last cycle, and a burst of
// 100 MB bodies doubles that within one cycle), so once the large buffers
// dropped since the last forced collection pass MaxBodyMemory/gcEvery, the
// goroutine that dropped the last one collects, one at a time. Heap memory
// then stays within about MaxBodyMemory·(1 + 1/gcEvery) of what the models
// hold, rather than a multiple of it.
func (s *Server) dropped(n int64) {
	if n < minTracked {
		return
	}
	if s.gcDebt.Add(n) < s.opt.MaxBodyMemory/gcEvery {
		return
	}
	if !s.gcRunning.CompareAndSwap(false, true) {
		return
	}
	s.gcDebt.Store(0)
	runtime.GC()
	s.gcRunning.Store(false)
}

// firstChunk is the buffer a body starts in; it doubles as bytes arrive.
const firstChunk = 64 << 10

// readBody reads the request body. Memory follows the bytes that arrive,
// never the length the client declares: a declared length above
// MaxBodyBytes is refused before reading (413), and the buffer starts
// small and doubles as it fills, up to the declared length or
// MaxBodyBytes, each step reserved from MaxBodyMemory (503 when that is
// spent). release gives the reservation back; the body must not be used
// after it. Nothing is pooled: a giant buffer is not kept for the next
// request.
//
// Read failures are the client's: a body cut short is a 400, one that
// arrives too slowly (the server's read deadline) a 408, and neither
// message names a socket address.
func (s *Server) readBody(r *http.Request) (body []byte, release func(), err error) {
	limit := s.opt.MaxBodyBytes
	declared := r.ContentLength
	if declared > limit {
		return nil, nil, tooLarge(limit)
	}
	// reserved counts every buffer made for this body, the outgrown ones
	// too: they are garbage only once collected.
	reserved := int64(0)
	release = func() {
		s.bodies.give(reserved)
		s.dropped(reserved)
		reserved = 0
	}
	grow := func(size int64) bool {
		if !s.bodies.take(size) {
			return false
		}
		reserved += size
		return true
	}
	capFor := func(n int64) int64 {
		// The next buffer size: double, at most the declared length (plus
		// one byte to see that the body ends there) or the limit plus one.
		c := max(n, firstChunk)
		if declared >= 0 {
			c = min(c, declared+1)
		}
		return min(c, limit+1)
	}
	size := capFor(firstChunk)
	if !grow(size) {
		return nil, nil, s.busy("the server holds as many request bodies as it may (%d bytes); retry shortly", s.opt.MaxBodyMemory)
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				release()
				return nil, nil, tooLarge(limit)
			}
			if declared >= 0 && int64(len(buf)) > declared {
				release()
				return nil, nil, badRequest("request body longer than its Content-Length")
			}
			next := capFor(2 * int64(cap(buf)))
			if !grow(next) {
				release()
				return nil, nil, s.busy("the server holds as many request bodies as it may (%d bytes); retry shortly", s.opt.MaxBodyMemory)
			}
			nb := make([]byte, len(buf), next)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			release()
			return nil, nil, bodyError(err, limit)
		}
	}
	if int64(len(buf)) > limit {
		release()
		return nil, nil, tooLarge(limit)
	}
	if declared >= 0 && int64(len(buf)) != declared {
		release()
		return nil, nil, badRequest("request body of %d bytes, its Content-Length says %d", len(buf), declared)
	}
	return buf, release, nil
}

func tooLarge(limit int64) error {
	return &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body larger than the server's limit of %d bytes", limit)}
}

// bodyError turns a failure to read the body into a client error whose
// message names nothing of the host (net.OpError text has addresses).
func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return tooLarge(limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &apiError{status: http.StatusRequestTimeout, msg: "the request body arrived too slowly"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the request body ended before its declared length")
	}
	return badRequest("the request body could not be read (connection closed or malformed chunked encoding)")
}
