package initpanic

import "testing"

func init() { panic("init: config missing") }

func TestNeverRuns(t *testing.T) {}
