package secrets

import (
	"context"
	"testing"
)

func TestEnvProvider(t *testing.T) {
	p := NewEnvProvider([]string{
		"SLIPWAY_SECRET_A=first",
		"SLIPWAY_SECRET_A=last",
		"SLIPWAY_SECRET_EQ=a=b=c",
		"SLIPWAY_SECRET_EMPTY=",
		"SLIPWAY_SECRET_bad-name=x",
		"SLIPWAY_SECRET_=x",
		"SLIPWAY_SECRET_NOEQUALS",
		"OTHER=x",
		"slipway_secret_LOWER=x",
	})
	tests := []struct {
		name   string
		want   string
		wantOK bool
	}{
		{"A", "last", true},
		{"EQ", "a=b=c", true},
		{"EMPTY", "", true},
		{"bad-name", "", false},
		{"", "", false},
		{"NOEQUALS", "", false},
		{"OTHER", "", false},
		{"LOWER", "", false},
	}
	for _, tt := range tests {
		v, ok, err := p.Lookup(context.Background(), tt.name)
		if v != tt.want || ok != tt.wantOK || err != nil {
			t.Errorf("Lookup(%q) = %q, %v, %v; want %q, %v, nil", tt.name, v, ok, err, tt.want, tt.wantOK)
		}
	}
}
