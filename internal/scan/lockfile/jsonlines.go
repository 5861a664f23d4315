package lockfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// jsonKeyLines maps the path of every object key in a JSON document
// (keys joined by "\x00") to the line the key is on, so that a package
// found by decoding can be reported at its place in the file.
func jsonKeyLines(data []byte) (map[string]int, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	w := &keyWalker{dec: dec, data: data, lines: make(map[string]int)}
	if err := w.value(nil, 0); err != nil {
		return nil, err
	}
	return w.lines, nil
}

type keyWalker struct {
	dec   *json.Decoder
	data  []byte
	lines map[string]int
	// Offsets only grow: count lines incrementally, not from the start.
	off  int64
	line int
}

func (w *keyWalker) lineAt(off int64) int {
	off = min(off, int64(len(w.data)))
	if off > w.off {
		w.line += bytes.Count(w.data[w.off:off], []byte("\n"))
		w.off = off
	}
	return w.line + 1
}

// maxDepth bounds recursion on hostile input.
const maxDepth = 64

func (w *keyWalker) value(path []string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("JSON nested deeper than %d levels", maxDepth)
	}
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	for w.dec.More() {
		if d == '[' {
			if err := w.value(path, depth+1); err != nil {
				return err
			}
			continue
		}
		k, err := w.dec.Token()
		if err != nil {
			return err
		}
		key, _ := k.(string)
		p := append(path[:len(path):len(path)], key)
		w.lines[strings.Join(p, "\x00")] = w.lineAt(w.dec.InputOffset())
		if err := w.value(p, depth+1); err != nil {
			return err
		}
	}
	_, err = w.dec.Token() // closing delimiter
	return err
}
