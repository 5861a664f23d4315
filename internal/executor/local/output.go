package local

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
)

// output copies a job's pipe to Job.Output from one goroutine.
type output struct {
	r    *os.File
	done chan struct{} // closed when copying has ended
	err  error         // first error from Job.Output; set before done
	head []byte        // start of the output (sandboxed jobs only); set before done
}

// headSize is how much output is kept to explain a failed sandbox setup.
const headSize = 1 << 10

// bufs recycles copy buffers: a DAG of short steps would otherwise
// allocate 64 KiB per step.
var bufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func copyOutput(r *os.File, w io.Writer, keepHead bool) *output {
	if w == nil {
		w = io.Discard
	}
	o := &output{r: r, done: make(chan struct{})}
	go o.copy(w, keepHead)
	return o
}

func (o *output) copy(w io.Writer, keepHead bool) {
	defer close(o.done)
	defer o.r.Close()
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	buf := *bp
	for {
		n, err := o.r.Read(buf)
		if n > 0 {
			if keepHead && len(o.head) < headSize {
				o.head = append(o.head, buf[:min(n, headSize-len(o.head))]...)
			}
			// After a failed write keep reading, so the step does not
			// block or die of SIGPIPE because slipway cannot log.
			if o.err == nil {
				if _, werr := w.Write(buf[:n]); werr != nil {
					o.err = werr
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// stop ends the copy even though a writer still holds the pipe; the
// pending Read returns at once.
func (o *output) stop() { o.r.Close() }

// bwrapMessage returns what bwrap printed about its own failure.
func (o *output) bwrapMessage() string {
	var msgs []string
	for line := range bytes.Lines(o.head) {
		if m, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("bwrap: ")); ok {
			msgs = append(msgs, string(m))
		}
	}
	if len(msgs) == 0 {
		return "no message, see the step output"
	}
	return strings.Join(msgs, "; ")
}
