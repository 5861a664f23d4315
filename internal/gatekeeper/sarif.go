package gatekeeper

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/sarif"
)

// WriteSARIF writes reports to path as SARIF 2.1.0, atomically.
func WriteSARIF(path string, reps ...*scan.Report) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sarif-*")
	if err != nil {
		return fmt.Errorf("sarif: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := sarif.Write(tmp, reps...); err != nil {
		tmp.Close()
		return fmt.Errorf("sarif %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
