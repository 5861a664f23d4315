package registry

import (
	"bytes"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// compareLayer compares two layers' compressed bytes.
func compareLayer(want, got v1.Layer) error {
	a, err := readCompressed(want)
	if err != nil {
		return err
	}
	b, err := readCompressed(got)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("layer bytes differ (%d vs %d bytes)", len(a), len(b))
	}
	return nil
}

func readCompressed(l v1.Layer) ([]byte, error) {
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
