package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/store"
)

// dagSpec is a 200-step DAG of `true`: groups of a root fanning out to six
// chains of three steps that fan back in, each group after the previous.
func dagSpec(n int) string {
	var b strings.Builder
	b.WriteString("steps:\n")
	prev, count := "", 0
	add := func(name string, needs ...string) bool {
		if count == n {
			return false
		}
		count++
		fmt.Fprintf(&b, "  %s:\n    run: \"true\"\n", name)
		if len(needs) > 0 && needs[0] != "" {
			fmt.Fprintf(&b, "    needs: [%s]\n", strings.Join(needs, ", "))
		}
		return true
	}
	for g := 0; count < n; g++ {
		root := fmt.Sprintf("g%d", g)
		if !add(root, prev) {
			break
		}
		var ends []string
		for c := 0; c < 6; c++ {
			last := root
			for k := 0; k < 3; k++ {
				name := fmt.Sprintf("s%d_%d_%d", g, c, k)
				if !add(name, last) {
					break
				}
				last = name
			}
			ends = append(ends, last)
		}
		prev = fmt.Sprintf("j%d", g)
		if !add(prev, ends...) {
			break
		}
	}
	return b.String()
}

// BenchmarkDAG200 measures the engine's whole cost for a 200-step DAG of
// no-op steps at parallelism 2 (make -j2 is the peer: see make bench).
func BenchmarkDAG200(b *testing.B) {
	h := newHarness(b)
	h.opts.Parallel = 2
	spec := dagSpec(200)
	for b.Loop() {
		if res := h.run(context.Background(), spec, nil); res.Run.Status != store.Success {
			b.Fatal(res.Run.Status)
		}
	}
}
