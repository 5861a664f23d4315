package pipeline

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// A deployment keeps a JSON copy of its environment. The keys are
// lowerCamel and durations are strings; copies written before that (Go
// field names, nanoseconds) still decode: encoding/json matches keys
// case-insensitively and durationJSON reads numbers.
func TestEnvironmentJSON(t *testing.T) {
	w := 20.0
	pause := time.Duration(0)
	env := Environment{Name: "production", Target: TargetLocal, Pos: Pos{3, 1}, Deploy: &Deploy{Strategy: StrategyCanary,
		Replicas: 2, CPUMillis: 500, ProgressDeadline: 10 * time.Minute, Readiness: &Probe{Path: "/healthz", Interval: 2 * time.Second},
		Steps: []CanaryStep{{Pos: Pos{5, 9}, SetWeight: &w}, {Pause: &pause}}}}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"production","target":"local","deploy":{"replicas":2,"strategy":"canary","steps":[{"setWeight":20},{"pause":"0s"}],` +
		`"readiness":{"path":"/healthz","interval":"2s"},"cpuMillis":500,"progressDeadline":"10m0s"}}`
	if string(b) != want {
		t.Fatalf("JSON\n got %s\nwant %s", b, want)
	}
	old := `{"Name":"production","Pos":{"Line":3,"Col":1},"Target":"local","Deploy":{"Replicas":2,"Strategy":"canary",` +
		`"Steps":[{"Pos":{"Line":5,"Col":9},"SetWeight":20},{"Pause":0}],"Readiness":{"Path":"/healthz","Interval":2000000000},"CPUMillis":500,` +
		`"ProgressDeadline":600000000000}}`
	numbers := `{"name":"production","target":"local","deploy":{"replicas":2,"strategy":"canary","steps":[{"setWeight":20},` +
		`{"pause":0}],"readiness":{"path":"/healthz","interval":2000000000},"cpuMillis":500,"progressDeadline":600000000000}}`
	for _, in := range []string{want, old, numbers} {
		var got Environment
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Fatal(err)
		}
		env.Pos, env.Deploy.Steps[0].Pos = Pos{}, Pos{}
		if !reflect.DeepEqual(got, env) {
			t.Errorf("decode %s\n got %+v\nwant %+v", in, *got.Deploy, *env.Deploy)
		}
	}
}

func TestDurationJSONErrors(t *testing.T) {
	for _, in := range []string{`{"stopGrace":"soon"}`, `{"stopGrace":true}`, `{"readiness":{"timeout":[1]}}`,
		`{"steps":[{"pause":"1 minute"}]}`} {
		var d Deploy
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("%s: decoded as %+v, want an error", in, d)
		}
	}
}
