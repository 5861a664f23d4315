package sarif

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxSize is the largest SARIF log Read accepts, in bytes. Logs of real
// tools on large repositories stay far below it; anything bigger is more
// likely an attack or a wrong file than a report.
const MaxSize = 256 << 20

// limit is MaxSize, lowered by tests.
var limit int64 = MaxSize

// ErrTooLarge is returned (wrapped in an *Error) for input over MaxSize.
var ErrTooLarge = errors.New("larger than the SARIF size limit")

// Error says which file and which part of it is wrong, as a JSON path
// such as runs[0].results[3].locations[0].
type Error struct {
	File string // the name given to Read
	Path string // JSON path inside the log, or line:col for syntax errors
	Err  error
}

func (e *Error) Error() string {
	switch {
	case e.Path == "":
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	default:
		return fmt.Sprintf("%s: %s: %v", e.File, e.Path, e.Err)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// decodeErr explains a JSON decoding error in a reader's words.
func decodeErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fmt.Errorf("%s: want %s, got JSON %s", field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return err
}

// jsonKind names a Go kind as the JSON type that would have fitted it.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	case "int", "int64", "float64":
		return "number"
	}
	return k
}

// position turns a byte offset into line:col for syntax errors.
func position(data []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return fmt.Sprintf("%d:%d", line, max(col, 1))
}
