package pipeline

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// A deployment keeps a JSON copy of its environment. The keys are
// lowerCamel; copies written before the tags existed (Go field names)
// still decode, because encoding/json matches keys case-insensitively.
func TestEnvironmentJSON(t *testing.T) {
	w := 20.0
	pause := time.Duration(0)
	env := Environment{Name: "production", Target: TargetLocal, Pos: Pos{3, 1}, Deploy: &Deploy{Strategy: StrategyCanary,
		Replicas: 2, CPUMillis: 500, ProgressDeadline: 10 * time.Minute, Readiness: &Probe{Path: "/healthz"},
		Steps: []CanaryStep{{Pos: Pos{5, 9}, SetWeight: &w}, {Pause: &pause}}}}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"production","target":"local","deploy":{"replicas":2,"strategy":"canary","steps":[{"setWeight":20},{"pause":0}],` +
		`"readiness":{"path":"/healthz"},"cpuMillis":500,"progressDeadline":600000000000}}`
	if string(b) != want {
		t.Fatalf("JSON\n got %s\nwant %s", b, want)
	}
	old := `{"Name":"production","Pos":{"Line":3,"Col":1},"Target":"local","Deploy":{"Replicas":2,"Strategy":"canary",` +
		`"Steps":[{"Pos":{"Line":5,"Col":9},"SetWeight":20},{"Pause":0}],"Readiness":{"Path":"/healthz"},"CPUMillis":500,` +
		`"ProgressDeadline":600000000000}}`
	for _, in := range []string{want, old} {
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
