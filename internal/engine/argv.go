package engine

import "strings"

// shellWords are builtins and keywords whose meaning needs the shell (or
// whose builtin differs from the program of the same name, like dash's echo).
var shellWords = map[string]bool{
	"exit": true, "cd": true, "export": true, "set": true, "unset": true, ".": true, "source": true,
	"eval": true, "exec": true, "read": true, "shift": true, "trap": true, "wait": true, "umask": true,
	"ulimit": true, "alias": true, "unalias": true, "return": true, "break": true, "continue": true,
	"readonly": true, "times": true, "type": true, "command": true, "getopts": true, "hash": true,
	"jobs": true, "local": true, "fg": true, "bg": true, ":": true, "if": true, "then": true,
	"else": true, "elif": true, "fi": true, "for": true, "while": true, "until": true, "do": true,
	"done": true, "case": true, "esac": true, "in": true, "function": true, "select": true,
	"time": true, "!": true, "{": true, "}": true, "echo": true,
}

// simpleArgv splits a script into words when it is one plain command: no
// quoting, expansion, redirection, globbing, operators, comments, variable
// assignments or shell builtins. Anything else returns nil and goes to the
// shell.
func simpleArgv(script string) []string {
	for i := 0; i < len(script); i++ {
		c := script[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("_./:,+@%-= \t", c) >= 0:
		default:
			return nil
		}
	}
	words := strings.Fields(script)
	if len(words) == 0 || shellWords[words[0]] || strings.Contains(words[0], "=") {
		return nil
	}
	return words
}
