package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/slipway-ci/slipway/internal/executor"
)

// spec is a job checked and resolved for exec.
type spec struct {
	shell string   // absolute path of the interpreter
	argv  []string // interpreter, its flags, the script
	env   []string // never nil: a nil Cmd.Env would mean slipway's own
}

// defaultPath is searched when Job.Env has no PATH, as execvp does.
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

func newSpec(job *executor.Job) (spec, error) {
	if len(job.Shell) == 0 || job.Shell[0] == "" {
		return spec{}, errors.New("job has no shell")
	}
	if !filepath.IsAbs(job.Dir) {
		return spec{}, fmt.Errorf("working directory %q is not absolute", job.Dir)
	}
	if fi, err := os.Stat(job.Dir); err != nil {
		return spec{}, fmt.Errorf("working directory: %w", err)
	} else if !fi.IsDir() {
		return spec{}, fmt.Errorf("working directory %s is not a directory", job.Dir)
	}
	env, err := checkEnv(job.Env)
	if err != nil {
		return spec{}, err
	}
	if len(job.Argv) > 0 {
		if prog, err := lookPath(job.Argv[0], job.Dir, env); err == nil {
			return spec{shell: prog, argv: job.Argv, env: env}, nil
		}
	}
	shell, err := lookPath(job.Shell[0], job.Dir, env)
	if err != nil {
		return spec{}, err
	}
	argv := make([]string, 0, len(job.Shell)+1)
	argv = append(argv, job.Shell...)
	argv = append(argv, job.Script)
	return spec{shell: shell, argv: argv, env: env}, nil
}

// checkEnv rejects entries exec would silently mangle.
func checkEnv(env []string) ([]string, error) {
	for _, kv := range env {
		if i := strings.IndexByte(kv, '='); i <= 0 {
			return nil, fmt.Errorf("environment entry %q is not KEY=value", kv)
		}
		if strings.IndexByte(kv, 0) >= 0 {
			return nil, fmt.Errorf("environment entry %q contains a NUL byte", kv)
		}
	}
	if env == nil {
		return []string{}, nil
	}
	return env, nil
}

// lookPath resolves the interpreter as the job would see it: relative to
// dir, and through the job's PATH rather than slipway's.
func lookPath(file, dir string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		if err := executable(file); err != nil {
			return "", fmt.Errorf("shell %s: %w", file, err)
		}
		return file, nil
	}
	path, ok := lookupEnv(env, "PATH")
	if !ok {
		path = defaultPath
	}
	for _, d := range filepath.SplitList(path) {
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		if p := filepath.Join(d, file); executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("shell %q not found in the job's PATH %q", file, path)
}

func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// lookupEnv returns the last value of key, as exec and shells do.
func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}
