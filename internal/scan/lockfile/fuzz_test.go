package lockfile

import "testing"

// fuzzParser checks that a parser never panics and that what it returns
// is well formed.
func fuzzParser(f *testing.F, name string, p parser, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := p(name, data)
		if err != nil {
			return
		}
		for _, pkg := range pkgs {
			if pkg.Name == "" || pkg.Version == "" || pkg.Path != name {
				t.Fatalf("bad package %+v", pkg)
			}
		}
	})
}

func FuzzGoMod(f *testing.F) {
	fuzzParser(f, "go.mod", ParseGoMod, string(readTestdata(f, "tree/go.mod")), "module x\nrequire a.b/c v1.0.0\n")
}

func FuzzNPM(f *testing.F) {
	fuzzParser(f, "package-lock.json", ParseNPM, string(readTestdata(f, "tree/web/package-lock.json")),
		string(readTestdata(f, "lock-v1.json")), `{"packages":{"":{}}}`, `[[[[]]]]`)
}

func FuzzRequirements(f *testing.F) {
	fuzzParser(f, "requirements.txt", ParseRequirements, string(readTestdata(f, "tree/py/requirements.txt")), "a==1\\\n")
}

func FuzzPoetry(f *testing.F) {
	fuzzParser(f, "poetry.lock", ParsePoetry, string(readTestdata(f, "tree/py2/poetry.lock")))
}

func FuzzCargo(f *testing.F) {
	fuzzParser(f, "Cargo.lock", ParseCargo, string(readTestdata(f, "tree/rust/Cargo.lock")))
}
