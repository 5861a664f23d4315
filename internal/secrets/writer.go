package secrets

import (
	"fmt"
	"io"
)

// bufSize is the most output a Writer gathers before passing it on; longer
// runs of clear bytes go straight from the caller's buffer.
const bufSize = 32 << 10

// Writer masks a stream on its way to another writer. It holds back only the
// bytes that may still begin a secret (the automaton's current depth), so
// output, such as a prompt without a newline, appears at once otherwise.
//
// A Writer is not safe for concurrent use; os/exec calls it from a single
// goroutine when a command's Stdout and Stderr are the same Writer. Call
// Flush at the end of the stream: a secret is not matched across a Flush.
type Writer struct {
	ac  *automaton
	dst io.Writer
	err error // sticky: the first error writing to dst

	state uint32 // automaton entry after the last byte
	pos   int64  // bytes written to the Writer so far

	// Input before done is settled: written out, or inside a masked run.
	// When open, Mask has been written for a run that ends at done and may
	// still grow, since a match starting at or before done can still come.
	done  int64
	open  bool
	spans []span // matches not yet written, sorted and apart, all after done

	// The unsettled input is held[:] (from heldFrom) followed, during a
	// Write, by chunk (from chunkStart).
	held       []byte
	heldFrom   int64
	chunk      []byte
	chunkStart int64

	out []byte
}

// span is a masked interval [start, end) of the input.
type span struct{ start, end int64 }

// NewWriter returns a Writer that writes to w the stream given to it with
// every secret masked.
func (m *Masker) NewWriter(w io.Writer) *Writer {
	return &Writer{ac: m.ac, dst: w, out: make([]byte, 0, 4096)}
}

// Write masks p and passes on everything that can no longer be part of a
// secret. It returns len(p) on success; after a failure to write to the
// underlying writer, it returns 0 and that error, as will every later call.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.chunk, w.chunkStart = p, w.pos
	a, e := w.ac, w.state
	dense := a.dense
	for i, c := range p {
		if e&sparseBit == 0 {
			e = dense[int(e>>idShift)<<8|int(c)]
		} else {
			e = a.next(e, c)
		}
		if e&matchBit != 0 {
			id := e >> idShift
			end := w.chunkStart + int64(i) + 1
			w.settle(end - int64(a.depth[id]))
			w.merge(end-int64(a.matchLen[id]), end)
		}
	}
	w.state = e
	w.pos += int64(len(p))
	w.settle(w.pos - int64(a.depth[e>>idShift]))
	w.keepUnsettled()
	w.flushOut()
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// Flush writes out the held-back bytes, masked, and ends the stream: the
// next Write starts matching afresh.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.chunk, w.chunkStart = nil, w.pos
	w.open = false
	for _, s := range w.spans {
		w.emitInput(w.done, s.start)
		w.emit(maskBytes)
		w.done = s.end
	}
	w.spans = w.spans[:0]
	w.emitInput(w.done, w.pos)
	w.done, w.heldFrom, w.held = w.pos, w.pos, w.held[:0]
	w.state = 0
	w.flushOut()
	return w.err
}

// settle writes out the input before b, where no match can start any more.
func (w *Writer) settle(b int64) {
	if w.open {
		if b <= w.done {
			return // a match starting at b would still touch the open run
		}
		w.open = false
	}
	i := 0
	for ; i < len(w.spans) && w.spans[i].start <= b; i++ {
		s := w.spans[i]
		w.emitInput(w.done, s.start)
		w.emit(maskBytes)
		w.done = s.end
		if s.end >= b {
			w.open = true
			i++
			break
		}
	}
	if i > 0 {
		w.spans = w.spans[:copy(w.spans, w.spans[i:])]
	}
	if !w.open && w.done < b {
		w.emitInput(w.done, b)
		w.done = b
	}
}

// merge adds the match [start, end); end is the current position, so the
// match reaches at least as far as every earlier one.
func (w *Writer) merge(start, end int64) {
	for n := len(w.spans); n > 0 && w.spans[n-1].end >= start; n = len(w.spans) {
		start = min(start, w.spans[n-1].start)
		w.spans = w.spans[:n-1]
	}
	if len(w.spans) == 0 && w.open && start <= w.done {
		w.done = end // the open run grows; its Mask is already out
		return
	}
	w.spans = append(w.spans, span{start, end})
}

// keepUnsettled copies the input from done on into held, since the caller
// may reuse p once Write returns.
func (w *Writer) keepUnsettled() {
	n := 0
	if w.done < w.chunkStart {
		n = copy(w.held, w.held[w.done-w.heldFrom:])
	}
	w.held = append(w.held[:n], w.chunk[max(w.done, w.chunkStart)-w.chunkStart:]...)
	w.heldFrom = w.done
	w.chunk = nil
}

// emitInput writes out the input bytes [from, to).
func (w *Writer) emitInput(from, to int64) {
	if from >= to {
		return
	}
	if from < w.chunkStart {
		hi := min(to, w.chunkStart)
		w.emit(w.held[from-w.heldFrom : hi-w.heldFrom])
		from = hi
	}
	if from < to {
		w.emit(w.chunk[from-w.chunkStart : to-w.chunkStart])
	}
}

func (w *Writer) emit(b []byte) {
	if len(b) == 0 || w.err != nil {
		return
	}
	if len(w.out)+len(b) > bufSize {
		w.flushOut()
		if len(b) >= bufSize {
			w.write(b)
			return
		}
	}
	w.out = append(w.out, b...)
}

func (w *Writer) flushOut() {
	if len(w.out) > 0 {
		w.write(w.out)
		w.out = w.out[:0]
	}
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.dst.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("writing masked output: %w", err)
	}
}
