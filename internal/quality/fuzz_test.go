package quality

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// addSeedFiles seeds f with the files matching pattern, cut into pieces of
// at most maxSeed bytes at line ends: the fuzzer mutates and minimises
// small inputs far faster, and each piece is still realistic.
func addSeedFiles(f *testing.F, pattern string) {
	f.Helper()
	const maxSeed = 8 << 10
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for len(data) > maxSeed {
			cut := bytes.LastIndexByte(data[:maxSeed], '\n') + 1
			if cut == 0 {
				cut = maxSeed
			}
			f.Add(data[:cut])
			data = data[cut:]
		}
		f.Add(data)
	}
}

func FuzzJUnit(f *testing.F) {
	addSeedFiles(f, "testdata/junit/*.xml")
	for _, s := range []string{
		"", "<testsuite/>", "<testsuites><testcase name='a'><failure>x<b>y</b></failure></testcase></testsuites>",
		"<testsuite><testcase name='a'><properties><testcase name='b'/></properties></testcase></testsuite>",
		`<?xml version="1.0" encoding="windows-1252"?><testsuite name="\x80"><testcase name="\x93"/></testsuite>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cases, err := Parse(JUnit, "fuzz.xml", bytes.NewReader(data))
		if err != nil {
			return
		}
		checkInvariants(t, cases)
	})
}

func FuzzGoTestJSON(f *testing.F) {
	addSeedFiles(f, "testdata/gotest/*.json")
	for _, s := range []string{
		"", "{}", `{"Action":"run","Package":"p","Test":"T"}`,
		`{"Action":"fail","Package":"p","FailedBuild":"p [p.test]"}` + "\n# p\nerror",
		`{"Action":"output","Package":"p","Test":"T/a/b","Output":"\u0000\ufffd"}` + "\n" + `{"Action":"fail","Package":"p","Test":"T/a/b","Elapsed":1e308}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cases, err := Parse(GoTestJSON, "fuzz.json", bytes.NewReader(data))
		if err != nil {
			return
		}
		checkInvariants(t, cases)
		// A package failure is never lost: each failed package yields at
		// least one failing case.
		failing := map[string]bool{}
		for _, tc := range cases {
			failing[tc.Suite] = failing[tc.Suite] || tc.Outcome.Failing()
		}
		for _, pkg := range failedPackages(data) {
			if !failing[pkg] {
				t.Errorf("package %q failed but no case of it did", pkg)
			}
		}
	})
}

// failedPackages lists the packages with a "fail" event in a report.
func failedPackages(data []byte) []string {
	var out []string
	br := bufio.NewReader(bytes.NewReader(data))
	for {
		line, err := readLine(br)
		var ev goEvent
		if json.Unmarshal(bytes.TrimSpace(line), &ev) == nil && ev.Action == "fail" &&
			cleanName(ev.Test) == "" && cleanName(ev.Package) != "" {
			out = append(out, cleanName(ev.Package))
		}
		if err != nil {
			return out
		}
	}
}

func FuzzQuarantine(f *testing.F) {
	addSeedFiles(f, "testdata/quarantine/*.yaml")
	for _, s := range []string{
		"", "quarantine:", "quarantine: [a, {test: x}]", "quarantine:\n- &a {test: T, owner: o, reason: r, expires: 2027-01-01}\n- *a\n",
		"quarantine: {}", "[", "quarantine:\n- {test: '[', owner: o, reason: r, expires: 2027-01-01T25:00:00Z}",
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := ParseQuarantine("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, e := range q.Entries {
			if e.Test == "" || e.Owner == "" || e.Reason == "" || e.Expires.IsZero() || e.Line == 0 {
				t.Errorf("accepted an incomplete entry: %+v", e)
			}
		}
		cases := []TestCase{
			{Suite: "example.com/hello", Name: "TestFlakyThing", Outcome: Failed},
			{Suite: "example.com/hello", Name: "TestFlakyThing/sub", Outcome: Failed},
			{Suite: "example.com/hello", Name: PackageTest, Outcome: Failed},
		}
		v := q.Decide(cases, now)
		if len(v.Failed)+len(v.Quarantined) != len(cases) || v.AllFailuresQuarantined {
			t.Errorf("Decide lost or forgave a package failure: %+v", v)
		}
		q.Expired(now)
	})
}
