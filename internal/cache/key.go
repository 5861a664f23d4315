// Package cache is the content-addressed step cache: the key that names a
// step's result from everything that can change it, and the backends that
// keep results (this state dir; later an OCI registry).
package cache

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"sort"
	"strconv"
)

// keyVersion changes whenever the key's layout or a built-in's meaning
// changes, so old entries simply stop matching.
const keyVersion = "slipway-step-cache/v1"

// KeyInput is everything that decides a step's result. Per-run values
// (run id, attempt, timestamps) are deliberately absent.
type KeyInput struct {
	Executor string
	Sandbox  string
	Workdir  string // relative to the checkout
	Shell    string
	Command  string         // run:, after matrix substitution
	Action   string         // uses:
	With     map[string]any // with:, after matrix substitution
	Env      map[string]string
	HostEnv  map[string]*string // cache.env names -> value (nil = unset)
	Matrix   map[string]string
	Needs    map[string]string // needed instance name -> its outputs digest
	Patterns []string          // cache.inputs as written
	Inputs   []InputFile       // files matched by Patterns
	Secrets  map[string]string // secret name -> SecretMAC(value)
	Outputs  []string          // declared outputs
}

// Key returns the cache key: sha256 over an unambiguous encoding of in
// (every field length-prefixed and named, maps sorted), so different inputs
// can never encode to the same bytes.
func Key(in KeyInput) string {
	h := sha256.New()
	w := keyWriter{h: h}
	w.field("version", keyVersion)
	w.field("executor", in.Executor)
	w.field("sandbox", in.Sandbox)
	w.field("workdir", in.Workdir)
	w.field("shell", in.Shell)
	w.field("command", in.Command)
	w.field("action", in.Action)
	with, _ := json.Marshal(in.With) // map keys are sorted by encoding/json
	w.field("with", string(with))
	w.strMap("env", in.Env)
	w.field("hostenv", strconv.Itoa(len(in.HostEnv)))
	for _, k := range sortedKeys(in.HostEnv) {
		if v := in.HostEnv[k]; v != nil {
			w.field("set:"+k, *v)
		} else {
			w.field("unset:"+k, "")
		}
	}
	w.strMap("matrix", in.Matrix)
	w.strMap("needs", in.Needs)
	w.list("patterns", in.Patterns)
	w.field("inputs", strconv.Itoa(len(in.Inputs)))
	for _, f := range in.Inputs {
		w.field(f.Path, f.Digest+" "+f.Mode)
	}
	w.strMap("secrets", in.Secrets)
	w.list("outputs", in.Outputs)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// SecretMAC is a keyed hash of a secret value: it changes the cache key when
// the value changes, without the value being recoverable from the key.
func SecretMAC(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

type keyWriter struct{ h hash.Hash }

func (w keyWriter) field(name, value string) {
	var buf [binary.MaxVarintLen64]byte
	for _, s := range []string{name, value} {
		n := binary.PutUvarint(buf[:], uint64(len(s)))
		w.h.Write(buf[:n])
		w.h.Write([]byte(s))
	}
}

func (w keyWriter) strMap(name string, m map[string]string) {
	w.field(name, strconv.Itoa(len(m)))
	for _, k := range sortedKeys(m) {
		w.field(k, m[k])
	}
}

func (w keyWriter) list(name string, l []string) {
	w.field(name, strconv.Itoa(len(l)))
	for _, s := range l {
		w.field("", s)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
