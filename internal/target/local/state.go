package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/target/local/supervisor"
)

// slotFile is what is persisted of a slot: identities, never Environ.
type slotFile struct {
	Service  string              `json:"service"`
	Env      string              `json:"environment"`
	Address  string              `json:"address"` // the router's host:port
	Route    target.Route        `json:"route"`
	Versions []versionFile       `json:"versions"`
	Replicas []supervisor.Record `json:"replicas,omitempty"`
}

// versionFile is a persisted target.Version.
type versionFile struct {
	Name     string `json:"name"`
	Repo     string `json:"repo"`
	Digest   string `json:"digest"`
	Replicas int    `json:"replicas"`
}

func (v versionFile) version() target.Version {
	return target.Version{Name: v.Name, Repo: v.Repo, Digest: v.Digest, Replicas: v.Replicas}
}

func slotPath(dir, service, env string) string {
	return filepath.Join(dir, "slots", service+"."+env+".json")
}

// loadSlots reads every slot file under dir.
func loadSlots(dir string) ([]slotFile, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "slots", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []slotFile
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
		var f slotFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("local: slot file %s: %w", p, err)
		}
		if !validName(f.Service) || !validName(f.Env) || p != slotPath(dir, f.Service, f.Env) {
			return nil, fmt.Errorf("local: slot file %s names %q/%q", p, f.Service, f.Env)
		}
		out = append(out, f)
	}
	return out, nil
}

// save persists f atomically, or removes the file when f is nil.
func saveSlot(dir string, service, env string, f *slotFile) error {
	p := slotPath(dir, service, env)
	if f == nil {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("local: %w", err)
		}
		return nil
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(p, b); err != nil {
		return fmt.Errorf("local: save slot %s/%s: %w", service, env, err)
	}
	return nil
}

// procAlive reports whether pid still is the process started at startTime
// (/proc/<pid>/stat field 22) and not a zombie.
func procAlive(pid int, startTime uint64) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3, the state
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return false
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	return err == nil && st == startTime
}
