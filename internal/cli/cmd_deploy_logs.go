package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/deploy"
)

func newDeployLogsCmd(g *globals) *cobra.Command {
	var (
		version string
		tail    int
		follow  bool
	)
	cmd := &cobra.Command{
		Use:   "logs <environment>",
		Short: "Print what an environment's replicas write (stdout and stderr), secrets masked",
		Long: `Logs prints the last lines each replica of the environment wrote, prefixed with
its version and replica, and with --follow what they write next until Ctrl-C
(the replicas running when it starts; run it again after a deployment).
Values of the environment's secrets are masked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := g.upClient(ctx, false)
			if err != nil {
				return err
			}
			q := url.Values{"tail": {strconv.Itoa(tail)}}
			if version != "" {
				q.Set("version", version)
			}
			if follow {
				q.Set("follow", "1")
			}
			path := "/v1/envs/" + url.PathEscape(args[0]) + "/logs?" + q.Encode()
			err = c.Stream(ctx, http.MethodGet, path, nil, func(b []byte) error {
				return g.printLogLine(b)
			})
			if err != nil && ctx.Err() != nil {
				return nil // Ctrl-C ends --follow
			}
			return apiErr(err)
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "only the replicas of this version")
	cmd.Flags().IntVarP(&tail, "tail", "n", 100, "lines per replica to start with")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "then print what they write next, until Ctrl-C")
	return cmd
}

// printLogLine prints one line of the logs stream: as is with -o json,
// else "<version> <replica> | <line>" with the replica's short id.
func (g *globals) printLogLine(b []byte) error {
	var l struct {
		deploy.LogLine
		Error string `json:"error"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("logs stream: %s", b)
	}
	if l.Error != "" {
		return failedError(fmt.Errorf("logs: %s", l.Error))
	}
	if g.json() {
		_, err := fmt.Fprintf(g.stdout, "%s\n", b)
		return err
	}
	short := l.Replica[strings.LastIndexByte(l.Replica, '.')+1:]
	_, err := fmt.Fprintf(g.stdout, "%s %s | %s\n", l.Version, short, l.Line)
	return err
}
