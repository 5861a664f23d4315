package deps

import (
	"context"
	"io"

	vulnscan "golang.org/x/vuln/scan"
)

// GovulncheckVersion is the golang.org/x/vuln release built into Slipway,
// whose JSON protocol (v1.0.0) it reads.
const GovulncheckVersion = "v1.9.0"

// Runner runs govulncheck with args and env, writing its output to
// stdout and stderr. It is a seam for tests; InProcess is the real one.
type Runner func(ctx context.Context, env, args []string, stdout, stderr io.Writer) error

// InProcess runs govulncheck inside Slipway (golang.org/x/vuln/scan): no
// binary to install. It still needs the go command, to load packages.
func InProcess(ctx context.Context, env, args []string, stdout, stderr io.Writer) error {
	cmd := vulnscan.Command(ctx, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, stdout, stderr
	cmd.Stdin = eofReader{}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Wait()
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
