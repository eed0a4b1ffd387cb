package simulate

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestTimerHeapOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Unix(0, 0)
	cmp := func(a, b timed) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return int(a.seq) - int(b.seq)
	}
	var h timerHeap
	var pending []timed // what the heap should hold
	pop := func() {
		want := slices.MinFunc(pending, cmp)
		got := h.pop()
		if got != want {
			t.Fatalf("popped %v, want %v", got, want)
		}
		pending = slices.DeleteFunc(pending, func(x timed) bool { return x.seq == got.seq })
	}
	for seq := uint64(0); seq < 3000; seq++ {
		it := timed{at: base.Add(time.Duration(r.IntN(50))), seq: seq}
		h.push(it)
		pending = append(pending, it)
		if r.IntN(3) == 0 { // pop now and then, as Delay does
			pop()
		}
	}
	for len(h) > 0 {
		pop()
	}
	if len(pending) != 0 {
		t.Fatalf("%d items lost", len(pending))
	}
}

func TestOrderTracker(t *testing.T) {
	var o orderTracker
	for _, tc := range []struct {
		seq  uint64
		late bool
	}{{0, false}, {2, true}, {3, true}, {1, false}, {4, false}, {6, true}, {5, false}} {
		if got := o.sent(tc.seq); got != tc.late {
			t.Fatalf("sent(%d) = %v, want %v", tc.seq, got, tc.late)
		}
	}
	if o.low != 7 || len(o.ahead) != 0 {
		t.Fatalf("low %d, ahead %v", o.low, o.ahead)
	}
}

func TestFlipBitsDistinct(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= 40; n++ {
		b := make([]byte, 4)
		got := flipBits(b, n, r)
		ones := 0
		for _, x := range b {
			for ; x != 0; x &= x - 1 {
				ones++
			}
		}
		want := min(n, 32)
		if got != want || ones != want {
			t.Fatalf("n=%d: flipped %d, %d bits set", n, got, ones)
		}
	}
	if flipBits(nil, 3, r) != 0 {
		t.Fatal("flipped bits of nothing")
	}
}

func TestSize(t *testing.T) {
	s := "four"
	for _, tc := range []struct {
		msg  any
		want int
	}{{[]byte("abc"), 3}, {"ab", 2}, {&s, 4}, {42, 1}, {(*string)(nil), 1}, {struct{}{}, 1}} {
		if got := size(tc.msg); got != tc.want {
			t.Fatalf("size(%#v) = %d, want %d", tc.msg, got, tc.want)
		}
	}
}
