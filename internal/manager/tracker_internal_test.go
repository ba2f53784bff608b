package manager

import "testing"

// TestTrackerWalkedEndsAtOne: a node whose last SCAN returned no keys
// reports no batch with cursor 0, so the progress of a finished walk must
// still end at Fraction 1 (TestWhereListStats failed on this now and then).
func TestTrackerWalkedEndsAtOne(t *testing.T) {
	var last Progress
	calls := 0
	tr := newTracker(func(p Progress) { last = p; calls++ })
	tr.frac, tr.weight = make([]float64, 2), []int64{10, 30}
	tr.add(0, 0, Summary{Scanned: 10})
	tr.add(1, 1<<63, Summary{Scanned: 30}) // half way through node 1's table
	if last.Fraction == 1 {
		t.Fatalf("fraction %v before node 1 finished", last.Fraction)
	}
	if err := tr.walked(1, nil); err != nil {
		t.Fatal(err)
	}
	if last.Fraction != 1 || last.Scanned != 40 || calls != 3 {
		t.Fatalf("after both nodes finished: fraction %v, scanned %d, %d reports; want 1, 40, 3", last.Fraction, last.Scanned, calls)
	}
	if err := tr.walked(0, nil); err != nil || calls != 3 {
		t.Fatalf("walked on a node already at 1 reported again (%d reports, %v)", calls, err)
	}
}
