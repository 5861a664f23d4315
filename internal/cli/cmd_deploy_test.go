package cli

import (
	"fmt"
	"testing"

	"github.com/slipway-ci/slipway/internal/store"
)

func TestLastMeasurements(t *testing.T) {
	var ms []*store.Measurement
	for i := range 5 {
		ms = append(ms, &store.Measurement{ID: int64(i), Analysis: "background", Metric: "error-rate"})
		if i < 2 {
			ms = append(ms, &store.Measurement{ID: int64(10 + i), Analysis: "step-3", Metric: "error-rate"})
		}
	}
	kept, left := lastMeasurements(ms, 3)
	var ids []int64
	for _, m := range kept {
		ids = append(ids, m.ID)
	}
	if fmt.Sprint(ids) != "[10 11 2 3 4]" || left != 2 {
		t.Errorf("kept %v, left %d; want the last 3 background ones and both of step-3, in order, 2 left", ids, left)
	}
}
