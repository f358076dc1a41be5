package stats

import "testing"

func TestWordCountsIgnoresCase(t *testing.T) {
	got := WordCounts("Go go GO")
	if got["go"] != 3 {
		t.Fatalf("want 3, got %d", got["go"])
	}
}
