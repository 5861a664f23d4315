package sbom

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden SBOMs in testdata/golden")

var scratch string // removed by TestMain

func TestMain(m *testing.M) {
	flag.Parse()
	ToolVersion = "v0.0.0-test" // goldens must not depend on how the test binary was built
	dir, err := os.MkdirTemp("", "sbom-test-")
	if err != nil {
		panic(err)
	}
	scratch = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var hello struct {
	once sync.Once
	path string
	err  error
}

const xmodH1 = "h1:ICeL3t2L30ljSPHHxDnR4fqVcBt/zR2zJAb9juavmQg="

// helloBinary builds, once per test run, a small Go program whose module
// requires golang.org/x/mod v0.42.0 and example.com/greet replaced by
// a local directory.
func helloBinary(t testing.TB) string {
	t.Helper()
	hello.once.Do(func() {
		dir := filepath.Join(scratch, "hello")
		files := map[string]string{
			"go.mod": "module example.com/hello\n\ngo 1.26\n\nrequire (\n\texample.com/greet v0.0.0\n\tgolang.org/x/mod v0.42.0\n)\n\n" +
				"replace example.com/greet => ./greet\n",
			// x/mod is in the module cache already (the project requires it), so no network is needed.
			"go.sum": "golang.org/x/mod v0.42.0 " + xmodH1 + "\ngolang.org/x/mod v0.42.0/go.mod h1:u5fzIrRInkL8MaO1cbRkUHT64v303YIT5KEqpNr7jRs=\n",
			"main.go": "package main\n\nimport (\n\t\"example.com/greet\"\n\n\t\"golang.org/x/mod/semver\"\n)\n\n" +
				"func main() { println(greet.Hello(), semver.IsValid(\"v1.0.0\")) }\n",
			"greet/go.mod":   "module example.com/greet\n\ngo 1.26\n",
			"greet/greet.go": "package greet\n\n// Hello greets.\nfunc Hello() string { return \"hello\" }\n",
		}
		for name, body := range files {
			p := filepath.Join(dir, name)
			if hello.err = os.MkdirAll(filepath.Dir(p), 0o755); hello.err != nil {
				return
			}
			if hello.err = os.WriteFile(p, []byte(body), 0o644); hello.err != nil {
				return
			}
		}
		hello.path = filepath.Join(dir, "hello")
		cmd := exec.Command("go", "build", "-o", hello.path, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			hello.err = &buildError{err, out}
		}
	})
	if hello.err != nil {
		t.Fatalf("build hello: %v", hello.err)
	}
	return hello.path
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }
