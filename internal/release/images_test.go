package release

import "testing"

func TestSplitRef(t *testing.T) {
	tests := []struct{ in, repo, tail string }{
		{"hello", "hello", ":latest"},
		{"hello:v1.2.0", "hello", ":v1.2.0"},
		{"team/hello:staging", "team/hello", ":staging"},
		{"hello@sha256:abc", "hello", "@sha256:abc"},
	}
	for _, tt := range tests {
		if repo, tail := splitRef(tt.in); repo != tt.repo || tail != tt.tail {
			t.Errorf("splitRef(%q) = %q, %q; want %q, %q", tt.in, repo, tail, tt.repo, tt.tail)
		}
	}
}
