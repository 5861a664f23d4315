package secrets

// An automaton is an Aho-Corasick matcher over bytes. The shallow states,
// where ordinary input keeps it nearly all the time, form a dense DFA (one
// 256-entry row each), so the hot loop costs one table load per byte. States
// beyond the dense budget (deep inside long patterns such as a PEM key) keep
// only their trie edges and a failure link, so memory stays linear in the
// pattern bytes whatever the secrets.
//
// A state travels as an entry: its id (states are numbered breadth-first)
// shifted left by idShift, with flag bits below.
type automaton struct {
	dense  []uint32 // rows of 256 entries for the states with id < nDense
	nDense uint32

	// Per state, by id.
	depth    []int32 // length of the state's string
	matchLen []int32 // longest pattern that is a suffix of the state's string, 0 if none
	matchPat []int32 // index of that pattern, -1 if none

	// Sparse states, by id-nDense: edges edgeStart[s]:edgeStart[s+1] and the
	// failure link, both as entries.
	edgeStart []uint32
	edgeByte  []byte
	edgeTo    []uint32
	fail      []uint32
}

const (
	matchBit  uint32 = 1 << 0 // some pattern ends at this state
	sparseBit uint32 = 1 << 1 // the state has no dense row
	idShift          = 2
)

// defaultDenseStates caps the dense rows at 2 MiB; breadth-first numbering
// gives them to the shallowest states.
const defaultDenseStates = 2048

type trieEdge struct {
	b  byte
	to int32
}

// buildAutomaton builds the matcher for non-empty, distinct patterns.
func buildAutomaton(patterns []string, denseStates int) *automaton {
	children, term := buildTrie(patterns)
	order, newID := breadthFirst(children)
	n := len(order)
	nDense := min(n, max(1, denseStates))
	a := &automaton{
		dense:     make([]uint32, nDense*256),
		nDense:    uint32(nDense),
		depth:     make([]int32, n),
		matchLen:  make([]int32, n),
		matchPat:  make([]int32, n),
		edgeStart: make([]uint32, n-nDense+1),
		fail:      make([]uint32, n-nDense),
	}
	a.matchPat[0] = -1
	failID := make([]int32, n)
	// States are visited breadth-first, so a state's failure target (always
	// shallower) is complete before the state needs it.
	for u, old := range order {
		for _, e := range children[old] {
			v := newID[e.to]
			a.depth[v] = a.depth[u] + 1
			f := int32(0)
			if u != 0 {
				f = int32(a.next(a.entry(failID[u]), e.b) >> idShift)
			}
			failID[v] = f
			if t := term[e.to]; t >= 0 {
				a.matchLen[v], a.matchPat[v] = a.depth[v], t
			} else {
				a.matchLen[v], a.matchPat[v] = a.matchLen[f], a.matchPat[f]
			}
		}
		a.addTransitions(int32(u), failID[u], children[old], newID)
	}
	return a
}

func (a *automaton) addTransitions(u, fail int32, kids []trieEdge, newID []int32) {
	if uint32(u) < a.nDense {
		row := a.dense[int(u)<<8 : int(u+1)<<8]
		if u != 0 {
			copy(row, a.dense[int(fail)<<8:int(fail+1)<<8])
		}
		for _, e := range kids {
			row[e.b] = a.entry(newID[e.to])
		}
		return
	}
	s := uint32(u) - a.nDense
	a.fail[s] = a.entry(fail)
	a.edgeStart[s+1] = a.edgeStart[s] + uint32(len(kids))
	for _, e := range kids {
		a.edgeByte = append(a.edgeByte, e.b)
		a.edgeTo = append(a.edgeTo, a.entry(newID[e.to]))
	}
}

func (a *automaton) entry(id int32) uint32 {
	e := uint32(id) << idShift
	if a.matchLen[id] > 0 {
		e |= matchBit
	}
	if uint32(id) >= a.nDense {
		e |= sparseBit
	}
	return e
}

// next returns the state after reading c in state e.
func (a *automaton) next(e uint32, c byte) uint32 {
	for e&sparseBit != 0 {
		s := e>>idShift - a.nDense
		for k := a.edgeStart[s]; k < a.edgeStart[s+1]; k++ {
			if a.edgeByte[k] == c {
				return a.edgeTo[k]
			}
		}
		e = a.fail[s]
	}
	return a.dense[int(e>>idShift)<<8|int(c)]
}

// buildTrie returns each node's edges and the pattern ending at it (-1 if
// none); node 0 is the root.
func buildTrie(patterns []string) ([][]trieEdge, []int32) {
	children := [][]trieEdge{nil}
	term := []int32{-1}
	for pi, p := range patterns {
		n := int32(0)
		for i := 0; i < len(p); i++ {
			next := int32(-1)
			for _, e := range children[n] {
				if e.b == p[i] {
					next = e.to
					break
				}
			}
			if next < 0 {
				next = int32(len(children))
				children = append(children, nil)
				term = append(term, -1)
				children[n] = append(children[n], trieEdge{b: p[i], to: next})
			}
			n = next
		}
		if term[n] < 0 {
			term[n] = int32(pi)
		}
	}
	return children, term
}

// breadthFirst numbers trie nodes breadth-first: order[newID] = old id.
func breadthFirst(children [][]trieEdge) (order, newID []int32) {
	order = make([]int32, 1, len(children))
	newID = make([]int32, len(children))
	for i := 0; i < len(order); i++ {
		for _, e := range children[order[i]] {
			newID[e.to] = int32(len(order))
			order = append(order, e.to)
		}
	}
	return order, newID
}
