package hello

import (
	"fmt"
	"testing"
)

func TestGreet(t *testing.T) {
	if got := Greet("world"); got != "hello, world" {
		t.Fatalf("Greet = %q", got)
	}
}

func TestFail(t *testing.T) {
	t.Log("connecting to the fake clock")
	t.Errorf("Greet(%q) = %q, want %q", "Zoë", Greet("Zoë"), "hi, Zoë")
	t.Error("second problem\nspanning two lines")
}

func TestSkip(t *testing.T) {
	t.Skip("needs docker")
}

func TestTable(t *testing.T) {
	for _, name := range []string{"empty", "ascii", "unicode"} {
		t.Run(name, func(t *testing.T) {
			if name == "unicode" {
				t.Errorf("case %s: got garbage", name)
			}
		})
	}
}

func TestParentOwnFailure(t *testing.T) {
	t.Run("child", func(t *testing.T) { t.Error("child broke") })
	t.Error("parent broke too")
}

func TestParallel(t *testing.T) {
	for i := range 3 {
		t.Run(fmt.Sprint("p", i), func(t *testing.T) {
			t.Parallel()
			t.Logf("worker %d done", i)
		})
	}
}

func TestNoisy(t *testing.T) {
	for i := range 400 {
		t.Logf("log line %03d: the quick brown fox jumps over the lazy dog", i)
	}
	t.Fatal("gave up after 400 lines")
}
