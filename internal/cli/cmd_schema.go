package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/app"
	"github.com/slipway-ci/slipway/internal/pipeline"
)

func newSchemaCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of .slipway.yaml, for editors",
		Example: `  slipway schema > .slipway.schema.json
  # VS Code (YAML extension): "yaml.schemas": {".slipway.schema.json": ".slipway.yaml"}`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			raw, err := pipeline.Schema(app.Builtins())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(g.stdout, string(raw))
			return err
		},
	}
}
