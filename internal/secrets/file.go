package secrets

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/yamlpos"
)

// maxFileSize bounds what LoadFileProvider reads, so a wrong path (a log, a
// disk image) fails fast instead of filling memory.
const maxFileSize = 8 << 20

// FileProvider serves secrets from a YAML file of NAME: value pairs, read
// once when loaded and immutable afterwards.
type FileProvider struct {
	path   string
	values map[string]string
}

var _ Provider = (*FileProvider)(nil)

// ModeError reports a secrets file that group or others may read or write.
type ModeError struct {
	Path string
	Mode fs.FileMode
}

func (e *ModeError) Error() string {
	perm := e.Mode.Perm()
	return fmt.Sprintf("secrets file %s has mode %04o (%s): it must not be readable or writable by group or others; run: chmod 600 %s",
		e.Path, uint32(perm), perm, shellQuote(e.Path))
}

// LoadFileProvider reads and parses the secrets file at path. The file must
// be a regular file with no permission bits for group or others (mode 0600
// or stricter), so a secret never sits where other users can read it.
func LoadFileProvider(path string) (*FileProvider, error) {
	data, err := readPrivateFile(path)
	if err != nil {
		return nil, err
	}
	values, err := ParseFile(path, data)
	if err != nil {
		return nil, err
	}
	return &FileProvider{path: path, values: values}, nil
}

// Name implements Provider.
func (p *FileProvider) Name() string { return "file:" + p.path }

// Lookup implements Provider.
func (p *FileProvider) Lookup(_ context.Context, name string) (string, bool, error) {
	v, ok := p.values[name]
	return v, ok, nil
}

// readPrivateFile checks the mode of the very file it reads (Stat on the open
// file), so the file cannot be swapped between the check and the read.
func readPrivateFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading secrets file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading secrets file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secrets file %s is not a regular file", path)
	}
	// Windows has no POSIX permission bits; its ACLs are out of our reach.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, &ModeError{Path: path, Mode: fi.Mode()}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading secrets file: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("secrets file %s is larger than %d MiB", path, maxFileSize>>20)
	}
	return data, nil
}

// ParseFile parses a secrets file: a YAML mapping of NAME: value, values
// being strings (multi-line values with a `|` block). Every problem is
// reported with file:line:col. Error messages never quote a value.
func ParseFile(name string, data []byte) (map[string]string, error) {
	root, err := yamlpos.Parse(name, data)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if yamlpos.IsNull(root) {
		return out, nil
	}
	d := &yamlpos.Decoder{File: name}
	if root.Kind != yaml.MappingNode {
		// yamlpos would quote a scalar, and a lone scalar here is likely a
		// pasted secret.
		d.Errorf(root, "a secrets file must be a mapping of NAME: value, not %s", safeKind(root))
		return nil, d.Err()
	}
	for _, f := range d.Mapping(root, "secrets file", nil) {
		if v, ok := parseEntry(d, f); ok {
			out[f.Name] = v
		}
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseEntry(d *yamlpos.Decoder, f yamlpos.Field) (string, bool) {
	if !ValidName(f.Name) {
		d.Errorf(f.Key, "invalid secret name %q: %s", f.Name, nameRule)
		return "", false
	}
	v := f.Value
	switch {
	case yamlpos.IsNull(v):
		d.Errorf(f.Key, "secret %q has no value (write \"\" for an empty value)", f.Name)
	case v.Kind != yaml.ScalarNode:
		d.Errorf(v, "secret %q must be a string, not %s", f.Name, safeKind(v))
	case !plainTag(v.Tag):
		d.Errorf(v, "secret %q has tag %s: write the value as a plain string", f.Name, v.Tag)
	default:
		return v.Value, true
	}
	return "", false
}

// plainTag accepts the tags whose literal text is what the user means:
// `PIN: 0123` is the string "0123".
func plainTag(tag string) bool {
	switch tag {
	case "", "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		return true
	}
	return false
}

// safeKind names a node's kind without quoting its content.
func safeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "an unsupported YAML node"
}

// shellQuote quotes a path for a command the user may paste.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
