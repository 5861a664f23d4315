package quality

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJUnitGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/junit/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no JUnit fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cases, err := parseTestFile(t, JUnit, file)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, cases)
			checkGolden(t, strings.TrimSuffix(file, ".xml")+".golden.json", cases)
		})
	}
}

// TestJUnitVariants pins the rules the golden files exercise, so a wrong
// -update cannot silently change them.
func TestJUnitVariants(t *testing.T) {
	tests := []struct {
		file string
		id   string
		want Outcome
		dur  time.Duration
		msg  string // substring of the message; "" means empty
	}{
		{"surefire.xml", "com.example.billing.InvoiceTest::totalsLineItems", Passed, 12 * time.Millisecond, ""},
		{"surefire.xml", "com.example.billing.InvoiceTest::appliesDiscount", Failed, 4 * time.Millisecond, "discount rule loaded: SUMMER10"},
		{"surefire.xml", "com.example.billing.InvoiceTest::loadsFromDatabase", Errored, time.Millisecond, "java.net.ConnectException: Connection refused"},
		{"surefire.xml", "com.example.billing.InvoiceTest::exportsPdf", Skipped, 0, "PDF export is disabled on CI"},
		{"surefire.xml", "com.example.billing.InvoiceTest::roundsHalfEven", Passed, 1002250 * time.Millisecond, "passed on a rerun after failing"},
		{"pytest.xml", "tests.test_parser::test_rejects_bad_magic[0x00]", Failed, 2 * time.Millisecond, "AssertionError: assert 'ok' == 'error'"},
		{"pytest.xml", "tests.test_db::test_known_bug", Skipped, 3 * time.Millisecond, "bug #123"},
		{"pytest.xml", "tests.test_db::test_migrates", Errored, 0, "failed on setup"},
		{"jest.xml", "Cart applies a coupon::Cart applies a coupon", Failed, 11 * time.Millisecond, "Expected: 90"},
		{"jest.xml", "api/users.test.ts::GET /users/:id returns 404 for a missing user", Passed, 52 * time.Millisecond, ""},
		{"jest.xml", "api/users.test.ts::GET /users returns the first page — 50 users", Passed, 141 * time.Millisecond, ""},
		{"phpunit-nested.xml", "Tests.Unit.MoneyTest::testAdd", Passed, 1234 * time.Microsecond, ""},
		{"phpunit-nested.xml", `Tests\Unit\MoneyTest::testDivide::testDivide with data set "by zero"`, Errored, 321 * time.Microsecond, "DivisionByZeroError: Division by zero"},
		{"ant-minimal.xml", "smoke::serves /health", Failed, 0, "GET /health: 503 Service Unavailable\n\n[output]\ndial tcp"},
		{"ant-minimal.xml", "smoke::decimal comma", Passed, 750 * time.Millisecond, ""},
		{"ant-minimal.xml", "smoke::grouped seconds", Passed, 1234 * time.Second, ""},
		{"ant-minimal.xml", "smoke::garbage time", Passed, 0, ""},
		{"ant-minimal.xml", "smoke::negative time", Passed, 0, ""},
		{"ant-minimal.xml", "smoke::no message at all", Failed, 0, "(no failure message)"},
		{"latin1.xml", "fr.example.RésuméTest::écrit", Passed, 500 * time.Millisecond, ""},
		{"latin1.xml", "fr.example.RésuméTest::lit", Failed, 250 * time.Millisecond, "attendu « oui »\ncafé"},
	}
	parsed := map[string][]TestCase{}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.id, func(t *testing.T) {
			cases, ok := parsed[tt.file]
			if !ok {
				var err error
				cases, err = parseTestFile(t, JUnit, filepath.Join("testdata/junit", tt.file))
				if err != nil {
					t.Fatal(err)
				}
				parsed[tt.file] = cases
			}
			tc, found := findCase(cases, tt.id)
			if !found {
				t.Fatalf("no case %q among %v", tt.id, outcomes(cases))
			}
			if tc.Outcome != tt.want || tc.Duration != tt.dur {
				t.Errorf("outcome, duration = %s, %v; want %s, %v", tc.Outcome, tc.Duration, tt.want, tt.dur)
			}
			if tt.msg == "" && tc.Message != "" || !strings.Contains(tc.Message, tt.msg) {
				t.Errorf("message = %q; want it to contain %q", tc.Message, tt.msg)
			}
		})
	}
}

func TestJUnitIgnoresRerunOutput(t *testing.T) {
	cases, err := parseTestFile(t, JUnit, "testdata/junit/surefire.xml")
	if err != nil {
		t.Fatal(err)
	}
	tc, _ := findCase(cases, "com.example.billing.InvoiceTest::parsesCurrency")
	if tc.Outcome != Failed || strings.Contains(tc.Message, "rerun output") {
		t.Errorf("parsesCurrency = %s %q; want failed without the rerun's output", tc.Outcome, tc.Message)
	}
}

func findCase(cases []TestCase, id string) (TestCase, bool) {
	for _, tc := range cases {
		if tc.ID() == id {
			return tc, true
		}
	}
	return TestCase{}, false
}

func TestJUnitMalformed(t *testing.T) {
	tests := []struct {
		name, xml, want string
	}{
		{"empty", "", "r.xml: not a JUnit XML report: no XML element found (empty file?)"},
		{"plain text", "Tests run: 3, Failures: 0", "r.xml: not a JUnit XML report: no XML element found (empty file?)"},
		{"truncated", "<testsuite name=\"a\">\n<testcase name=\"x\">\n", "r.xml:3: invalid XML: unexpected end of file (truncated report?)"},
		{"mismatched", "<testsuite>\n  <testcase name=\"a\">\n</testsuite>", "r.xml:3: invalid XML: element <testcase> closed by </testsuite>"},
		{"not junit", "<html><body>502 Bad Gateway</body></html>", "r.xml:1: not a JUnit XML report: the root element is <html>, not <testsuites> or <testsuite>"},
		{"unnamed case", "<testsuite>\n<testcase classname=\"A\" time=\"1\"/>\n</testsuite>", "r.xml:2: <testcase> without a name attribute"},
		{"nested case", "<testsuite>\n<testcase name=\"a\">\n<testcase name=\"b\"/></testcase></testsuite>", "r.xml:3: <testcase> inside <testcase> (line 2)"},
		{"html entity", "<testsuite name=\"a&nbsp;b\"/>", "r.xml:1: invalid XML: invalid character entity &nbsp;"},
		{"encoding", `<?xml version="1.0" encoding="EBCDIC-US"?><testsuite/>`, `r.xml:1: invalid XML: xml: opening charset "EBCDIC-US": unsupported encoding "EBCDIC-US" (use UTF-8)`},
		{"bad utf-8", "<testsuite name=\"\xff\"/>", "r.xml:1: invalid XML: invalid UTF-8"},
		{"two roots", "<testsuite/><testsuite/>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(JUnit, "r.xml", strings.NewReader(tt.xml))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Parse error = %v\nwant %s", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "r.xml" {
				t.Errorf("error %T is not a *ParseError for r.xml", err)
			}
		})
	}
}

// TestJUnitBoundsMessages feeds a failure with megabytes of output and checks
// the message keeps its start and end within MaxMessage.
func TestJUnitBoundsMessages(t *testing.T) {
	noise := strings.Repeat("log line é\n", 300_000)
	doc := `<testsuite name="s"><testcase name="big"><failure message="first line">` +
		noise + `last words</failure><system-out>` + noise + `tail of stdout</system-out></testcase></testsuite>`
	cases, err := Parse(JUnit, "big.xml", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, cases)
	msg := cases[0].Message
	if !strings.HasPrefix(msg, "first line") || !strings.HasSuffix(msg, "tail of stdout") || !strings.Contains(msg, "truncated") {
		t.Errorf("message does not keep both ends: %q…%q", msg[:40], msg[len(msg)-40:])
	}
}

func TestParseSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"1.5", 1500 * time.Millisecond},
		{" 0.001 ", time.Millisecond},
		{"1,234.5", 1234500 * time.Millisecond},
		{"12,345,678", 12345678 * time.Second},
		{"0,25", 250 * time.Millisecond},
		{"12,5", 12500 * time.Millisecond},
		{"2s", 2 * time.Second},
		{"1e3", 1000 * time.Second},
		{"NaN", 0},
		{"-1", 0},
		{"Inf", time.Duration(1<<63 - 1)},
		{"1e300", time.Duration(1<<63 - 1)},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseSeconds(tt.in); got != tt.want {
			t.Errorf("parseSeconds(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCharsetReader(t *testing.T) {
	for _, tt := range []struct{ label, in, want string }{
		{"ISO-8859-1", "caf\xe9", "café"},
		{"latin1", "\xab\xbb", "«»"},
		{"windows-1252", "\x93quoted\x94 \x80", "“quoted” €"},
		{"US-ASCII", "plain", "plain"},
		{"UTF8", "déjà", "déjà"},
	} {
		r, err := charsetReader(tt.label, strings.NewReader(tt.in))
		if err != nil {
			t.Fatalf("%s: %v", tt.label, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.label, got, err, tt.want)
		}
	}
	if _, err := charsetReader("shift_jis", strings.NewReader("")); err == nil {
		t.Error("shift_jis: no error")
	}
}

func ExampleParse() {
	report := `<testsuite name="smoke"><testcase classname="api" name="health" time="0.02"/>` +
		`<testcase classname="api" name="login" time="1.5"><failure message="401"/></testcase></testsuite>`
	cases, err := Parse(JUnit, "report.xml", strings.NewReader(report))
	if err != nil {
		panic(err)
	}
	for _, tc := range cases {
		fmt.Printf("%s %s %v %q\n", tc.ID(), tc.Outcome, tc.Duration, tc.Message)
	}
	fmt.Printf("%+v\n", Summarize(cases))
	// Output:
	// api::health passed 20ms ""
	// api::login failed 1.5s "401"
	// {Total:2 Passed:1 Failed:1 Skipped:0 Errored:0}
}
