package supervisor

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// logCheckInterval is how often a running replica's log size is checked.
const logCheckInterval = time.Second

// rotateLog keeps the replica's log under Config.LogMaxBytes.
func (r *replica) rotateLog() {
	r.mu.Lock()
	path := r.rec.LogPath
	r.mu.Unlock()
	err := rotateLog(path, r.s.cfg.LogMaxBytes)
	if err == nil {
		return
	}
	// The log is the one place its reader looks.
	if f, ferr := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); ferr == nil {
		_, _ = fmt.Fprintf(f, "--- slipway: %v\n", err)
		_ = f.Close()
	}
}

// rotateLog moves a log above max bytes to path.1 the way logrotate's
// copytruncate does: the replica keeps writing through its O_APPEND
// descriptor, so the file is copied, then truncated in place; what is
// written between the two is lost. A negative max never rotates.
func rotateLog(path string, max int64) error {
	fi, err := os.Stat(path)
	if max < 0 || errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() <= max) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	src, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	defer src.Close()
	tmp := path + ".1.tmp"
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path+".1")
	}
	if err == nil {
		err = os.Truncate(path, 0)
	}
	if err != nil {
		os.Remove(tmp) //nolint:errcheck // best effort
		return fmt.Errorf("rotate log: %w", err)
	}
	return nil
}
