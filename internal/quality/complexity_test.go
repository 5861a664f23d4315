package quality

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGoComplexity(t *testing.T) {
	src := `package p

func Straight() int { return 1 }

func Branches(a, b bool, xs []int) int {
	n := 0
	if a && b || !a { // if, &&, ||
		n++
	}
	for i := 0; i < 3; i++ { // for
		n += i
	}
	for _, x := range xs { // range
		switch { // two cases, default free
		case x > 1:
			n++
		case x < 0:
			n--
		default:
		}
	}
	return n
}

type T[K comparable] struct{}

func (t *T[K]) Select(c chan int) {
	f := func() { // closures count towards their function
		if c == nil {
			return
		}
	}
	select {
	case <-c:
	case c <- 1:
	default:
	}
	f()
}

func (T[K]) Value() {}
`
	got, err := GoComplexity("p.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []FunctionComplexity{
		{Name: "Straight", Path: "p.go", Line: 3, EndLine: 3, Complexity: 1},
		{Name: "Branches", Path: "p.go", Line: 5, EndLine: 23, Complexity: 8},
		{Name: "(*T).Select", Path: "p.go", Line: 27, EndLine: 39, Complexity: 4},
		{Name: "(T).Value", Path: "p.go", Line: 41, EndLine: 41, Complexity: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := GoComplexity("bad.go", []byte("package p\nfunc {")); err == nil {
		t.Error("a file that does not parse gave no error")
	}
}
