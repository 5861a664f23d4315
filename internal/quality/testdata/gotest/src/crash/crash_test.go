package crash

import (
	"os"
	"testing"
)

func TestBefore(t *testing.T) {}

func TestExit(t *testing.T) {
	t.Log("about to exit")
	os.Exit(3)
}
