package pipeline

import "strings"

// Combo is one matrix combination, in dimension order.
type Combo []KV

// KV is one matrix value.
type KV struct{ Key, Value string }

// Map returns the combination as a map.
func (c Combo) Map() map[string]string {
	m := make(map[string]string, len(c))
	for _, kv := range c {
		m[kv.Key] = kv.Value
	}
	return m
}

// Suffix is the instance name suffix, e.g. "[go=1.22,os=linux]".
func (c Combo) Suffix() string {
	if len(c) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, kv := range c {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv.Key + "=" + kv.Value)
	}
	b.WriteByte(']')
	return b.String()
}

func (c Combo) matches(partial map[string]string) bool {
	if len(partial) == 0 {
		return false
	}
	m := c.Map()
	for k, v := range partial {
		if m[k] != v {
			return false
		}
	}
	return true
}

// Combinations expands the matrix: the cartesian product of the dimensions in
// file order, minus every combination an `exclude` entry matches, plus each
// `include` entry not already present. A nil matrix has one empty combination.
func (m *Matrix) Combinations() []Combo {
	if m == nil {
		return []Combo{nil}
	}
	var out []Combo
	if len(m.Dims) > 0 {
		out = []Combo{nil}
		for _, d := range m.Dims {
			var next []Combo
			for _, c := range out {
				for _, v := range d.Values {
					cc := append(append(Combo(nil), c...), KV{d.Name, v})
					next = append(next, cc)
				}
			}
			out = next
			if len(out) > MaxMatrix*4 {
				return out // too large; the caller reports it
			}
		}
	}
	out = filter(out, func(c Combo) bool {
		for _, ex := range m.Exclude {
			if c.matches(ex) {
				return false
			}
		}
		return true
	})
	for _, in := range m.Include {
		c := m.orderedCombo(in)
		dup := false
		for _, have := range out {
			if have.Suffix() == c.Suffix() {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

// orderedCombo lays out an include entry in dimension order (or key order
// when the matrix has no dimensions).
func (m *Matrix) orderedCombo(in map[string]string) Combo {
	var c Combo
	if len(m.Dims) > 0 {
		for _, d := range m.Dims {
			if v, ok := in[d.Name]; ok {
				c = append(c, KV{d.Name, v})
			}
		}
		return c
	}
	for _, k := range sortedKeys(in) {
		c = append(c, KV{k, in[k]})
	}
	return c
}

func filter(cs []Combo, keep func(Combo) bool) []Combo {
	out := cs[:0]
	for _, c := range cs {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}
