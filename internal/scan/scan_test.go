package scan

import (
	"strings"
	"testing"
)

func TestSeverity(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Severity
		err  bool
	}{
		{"HIGH", High, false}, {"critical", Critical, false}, {"moderate", Medium, false},
		{"warning", Medium, false}, {"note", Low, false}, {"error", High, false}, {"severe", Unknown, true},
	} {
		got, err := ParseSeverity(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseSeverity(%q) = %v, %v", tt.in, got, err)
		}
	}
	var s Severity
	if err := s.UnmarshalText([]byte("low")); err != nil || s != Low || s.String() != "low" {
		t.Fatalf("round trip: %v %v", s, err)
	}
}

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ secret, want string }{
		{"AKIAIOSFODNN7EXAMPLE", "AKIA*****"},
		{"hunter2", "*****"},
		{"12345678", "12*****"},
	} {
		got := Redact("key="+tt.secret+";", tt.secret)
		if got != "key="+tt.want+";" || strings.Contains(got, tt.secret) {
			t.Errorf("Redact(%q) = %q", tt.secret, got)
		}
	}
}

func TestFingerprintIgnoresLines(t *testing.T) {
	a := Fingerprint(Secrets, "aws-access-token", "config.go", "h1")
	if a != Fingerprint(Secrets, "aws-access-token", "config.go", "h1") || a == Fingerprint(Secrets, "aws-access-token", "other.go", "h1") {
		t.Fatal("fingerprint not stable or not specific")
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		f    Finding
		want string
	}{
		{Finding{Scanner: Secrets, Title: "AWS key", Snippet: " AKIA***** "}, "AWS key: AKIA*****"},
		{Finding{Scanner: SAST, Title: "weak hash", Snippet: "md5.Sum(b)"}, "weak hash"},
		{Finding{Scanner: Deps, Title: "bug", FixedIn: "1.1.0", Reachable: "no"}, "bug (fixed in 1.1.0) [not reachable]"},
		{Finding{Title: strings.Repeat("é", 130)}, strings.Repeat("é", 117) + "..."},
	}
	for _, tt := range tests {
		if got := tt.f.Describe(); got != tt.want {
			t.Errorf("Describe(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}
