// Command slipway is the Slipway CI/CD system: CLI, and later server and agent.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/slipway-ci/slipway/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}
