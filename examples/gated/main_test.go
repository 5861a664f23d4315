package main

import "testing"

func TestMessage(t *testing.T) {
	for in, want := range map[string]string{"": "hello, world", "ada": "hello, ada"} {
		if got := message(in); got != want {
			t.Errorf("message(%q) = %q, want %q", in, got, want)
		}
	}
}
