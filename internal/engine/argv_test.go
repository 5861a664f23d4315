package engine

import (
	"fmt"
	"testing"
)

func TestSimpleArgv(t *testing.T) {
	tests := map[string][]string{
		"true":                     {"true"},
		"  go test ./... -count=1": {"go", "test", "./...", "-count=1"},
		"make -j4 build":           {"make", "-j4", "build"},
		"echo hi":                  nil, // dash's echo interprets escapes
		"exit 3":                   nil,
		"cd sub":                   nil,
		"FOO=1 make":               nil,
		"ls *.go":                  nil,
		"a && b":                   nil,
		"echo $HOME":               nil,
		"cat <in":                  nil,
		"printf 'x'":               nil,
		"a\nb":                     nil,
		"ls ~":                     nil,
		"make # build":             nil,
		"":                         nil,
	}
	for script, want := range tests {
		if got := simpleArgv(script); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("simpleArgv(%q) = %q, want %q", script, got, want)
		}
	}
}
