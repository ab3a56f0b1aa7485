package gc

import "testing"

func TestTuneSetsAndRestores(t *testing.T) {
	before := Current()
	want := Settings{Percent: 321, Limit: 123 << 20}
	restore := Tune(want)
	if got := Current(); got != want {
		t.Errorf("after Tune, Current() = %+v, want %+v", got, want)
	}
	restore()
	if got := Current(); got != before {
		t.Errorf("after restore, Current() = %+v, want %+v as before", got, before)
	}
}
