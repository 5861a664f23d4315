package testmain

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		fmt.Println("teardown: leaked 3 goroutines")
		code = 1
	}
	os.Exit(code)
}

func TestOK(t *testing.T) {}
