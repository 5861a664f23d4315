package pipeline

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/slipway-ci/slipway/internal/action"
)

//go:embed schema.json
var schemaJSON []byte

// Schema returns the JSON Schema of the spec, with the `with:` schema of
// every built-in of actions, for editors to validate .slipway.yaml.
func Schema(actions *action.Registry) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(schemaJSON, &doc); err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	step := doc["$defs"].(map[string]any)["step"].(map[string]any)
	props := step["properties"].(map[string]any)
	names := actions.Names()
	if len(names) > 0 {
		props["uses"].(map[string]any)["enum"] = names
	}
	var conds []any
	for _, name := range names {
		a, _ := actions.Lookup(name)
		var with any
		if err := json.Unmarshal(a.Schema(), &with); err != nil {
			return nil, fmt.Errorf("built-in %q: bad schema: %w", name, err)
		}
		conds = append(conds, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"uses": map[string]any{"const": name}}, "required": []any{"uses"}},
			"then": map[string]any{"properties": map[string]any{"with": with}},
		})
	}
	if len(conds) > 0 {
		step["allOf"] = conds
	}
	return json.MarshalIndent(doc, "", "  ")
}
