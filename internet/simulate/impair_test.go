package simulate_test

import (
	"bytes"
	"errors"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

func TestLossRate(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		s := simulate.Loss(0.2, simulate.Seed(seed))
		got := asInts(t, through(t, s, ints(10_000)))
		st := s.Stats()
		if st.In != 10_000 || st.Out != uint64(len(got)) || st.Dropped+st.Out != st.In {
			t.Fatalf("seed %d: stats %v for %d out", seed, st, len(got))
		}
		if st.Dropped < 1700 || st.Dropped > 2300 {
			t.Fatalf("seed %d: dropped %d of 10000 at p=0.2", seed, st.Dropped)
		}
		if !slices.IsSorted(got) {
			t.Fatalf("seed %d: order changed", seed)
		}
	}
}

func TestLossExtremes(t *testing.T) {
	if got := through(t, simulate.Loss(1), ints(100)); len(got) != 0 {
		t.Fatalf("Loss(1) let %d through", len(got))
	}
	if got := asInts(t, through(t, simulate.Loss(0), ints(100))); !slices.Equal(got, ints(100)) {
		t.Fatalf("Loss(0) gave %v", got)
	}
}

func TestRandomSeedIsReported(t *testing.T) {
	a, b := simulate.Loss(0.5), simulate.Loss(0.5)
	if a.Seed() == b.Seed() {
		t.Fatalf("two unseeded stages share seed %d", a.Seed())
	}
	// The reported seed repeats the run.
	first := asInts(t, through(t, a, ints(500)))
	again := asInts(t, through(t, simulate.Loss(0.5, simulate.Seed(a.Seed())), ints(500)))
	if !slices.Equal(first, again) {
		t.Fatalf("seed %d: rerun with the reported seed differs", a.Seed())
	}
}

func TestDuplicateRate(t *testing.T) {
	s := simulate.Duplicate(0.05, simulate.Seed(11))
	got := asInts(t, through(t, s, ints(10_000)))
	st := s.Stats()
	if st.Duplicated < 400 || st.Duplicated > 600 {
		t.Fatalf("seed %d: duplicated %d of 10000 at p=0.05", s.Seed(), st.Duplicated)
	}
	if st.Out != uint64(len(got)) || st.Out != st.In+st.Duplicated {
		t.Fatalf("seed %d: stats %v for %d out", s.Seed(), st, len(got))
	}
	// Every message once or twice, copies straight after the original.
	want := 0
	for i := 0; i < len(got); i++ {
		if got[i] != want {
			t.Fatalf("seed %d: position %d holds %d, want %d", s.Seed(), i, got[i], want)
		}
		if i+1 < len(got) && got[i+1] == want {
			i++
		}
		want++
	}
	if want != 10_000 {
		t.Fatalf("seed %d: %d distinct messages", s.Seed(), want)
	}
}

func TestDuplicateCopiesPayloads(t *testing.T) {
	from := netip.MustParseAddrPort("127.0.0.1:1500")
	b := []byte("bytes")
	dg := udp.Datagram{Data: []byte("datagram"), From: from}
	pk := udp.Packet{To: from, Host: "h:1", Data: []byte("packet")}
	str := "string"
	in := []any{b, dg, pk, &b, &dg, &pk, str, &str, 42}
	got := through(t, simulate.Duplicate(1, simulate.Seed(1)), in)
	if len(got) != 2*len(in) {
		t.Fatalf("got %d messages, want %d", len(got), 2*len(in))
	}
	for i := range in {
		orig, dup := got[2*i], got[2*i+1]
		switch o := orig.(type) {
		case []byte:
			d := dup.([]byte)
			if !bytes.Equal(o, d) || &o[0] == &d[0] {
				t.Errorf("[]byte copy %q shares or differs from %q", d, o)
			}
		case udp.Datagram:
			d := dup.(udp.Datagram)
			if d.From != o.From || !bytes.Equal(o.Data, d.Data) || &o.Data[0] == &d.Data[0] {
				t.Errorf("Datagram copy %v shares or differs from %v", d, o)
			}
		case udp.Packet:
			d := dup.(udp.Packet)
			if d.To != o.To || d.Host != o.Host || !bytes.Equal(o.Data, d.Data) || &o.Data[0] == &d.Data[0] {
				t.Errorf("Packet copy %v shares or differs from %v", d, o)
			}
		case *[]byte:
			d := dup.(*[]byte)
			if d == o || !bytes.Equal(*o, *d) || &(*o)[0] == &(*d)[0] {
				t.Errorf("*[]byte copy shares or differs")
			}
		case *udp.Datagram:
			d := dup.(*udp.Datagram)
			if d == o || d.From != o.From || !bytes.Equal(o.Data, d.Data) || &o.Data[0] == &d.Data[0] {
				t.Errorf("*Datagram copy shares or differs")
			}
		case *udp.Packet:
			d := dup.(*udp.Packet)
			if d == o || d.To != o.To || d.Host != o.Host || !bytes.Equal(o.Data, d.Data) || &o.Data[0] == &d.Data[0] {
				t.Errorf("*Packet copy shares or differs")
			}
		case string:
			if dup.(string) != o {
				t.Errorf("string copy %q differs from %q", dup, o)
			}
		case *string:
			d := dup.(*string)
			if d == o || *d != *o {
				t.Errorf("*string copy shares or differs")
			}
		case int:
			if dup != orig {
				t.Errorf("int sent twice as %v, %v", orig, dup)
			}
		default:
			t.Errorf("unexpected %T", orig)
		}
		if !isSliceMsg(orig) && orig != in[i] {
			t.Errorf("message %d: the original was replaced: %v, want %v", i, orig, in[i])
		}
	}
}

// isSliceMsg reports messages that cannot be compared with ==.
func isSliceMsg(m any) bool {
	switch m.(type) {
	case []byte, udp.Datagram, udp.Packet:
		return true
	}
	return false
}

// differingBits counts the bits in which a and b differ.
func differingBits(a, b []byte) int {
	n := 0
	for i := range a {
		n += bits.OnesCount8(a[i] ^ b[i])
	}
	return n
}

func TestCorruptFlipsBitsOfACopy(t *testing.T) {
	for _, tc := range []struct {
		bits, want int
		payload    string
	}{
		{1, 1, "hello, world"},
		{3, 3, "hello, world"},
		{8, 8, "x"},
		{100, 16, "xy"},
	} {
		var in [][]byte
		var keep [][]byte
		for range 200 {
			b := []byte(tc.payload)
			in = append(in, b)
			keep = append(keep, bytes.Clone(b))
		}
		s := simulate.Corrupt(1, simulate.Bits(tc.bits), simulate.Seed(uint64(tc.bits)))
		got := through(t, s, in)
		if len(got) != len(in) {
			t.Fatalf("Bits(%d): %d out of %d", tc.bits, len(got), len(in))
		}
		positions := map[int]bool{}
		for i, m := range got {
			b := m.([]byte)
			if !bytes.Equal(in[i], keep[i]) {
				t.Fatalf("Bits(%d): the sender's buffer %d was changed", tc.bits, i)
			}
			if n := differingBits(b, keep[i]); n != tc.want {
				t.Fatalf("Bits(%d): %d bits differ in %q, want %d", tc.bits, n, b, tc.want)
			}
			for j := range b {
				if b[j] != keep[i][j] {
					positions[j] = true
				}
			}
		}
		if len(tc.payload) > 1 && len(positions) < 2 {
			t.Fatalf("Bits(%d): always the same byte damaged: %v", tc.bits, positions)
		}
		if st := s.Stats(); st.Corrupted != 200 || st.Out != 200 {
			t.Fatalf("Bits(%d): stats %v", tc.bits, st)
		}
	}
}

func TestCorruptPayloadTypes(t *testing.T) {
	from := netip.MustParseAddrPort("[::1]:9")
	b := []byte("abcdef")
	dg := udp.Datagram{Data: []byte("abcdef"), From: from}
	pk := udp.Packet{To: from, Host: "h:1", Data: []byte("abcdef")}
	str := "abcdef"
	in := []any{b, dg, pk, &b, &dg, &pk, str, &str}
	got := through(t, simulate.Corrupt(1, simulate.Seed(5)), in)
	data := func(m any) (string, netip.AddrPort, string) {
		switch v := m.(type) {
		case []byte:
			return string(v), netip.AddrPort{}, ""
		case udp.Datagram:
			return string(v.Data), v.From, ""
		case udp.Packet:
			return string(v.Data), v.To, v.Host
		case *[]byte:
			return string(*v), netip.AddrPort{}, ""
		case *udp.Datagram:
			return string(v.Data), v.From, ""
		case *udp.Packet:
			return string(v.Data), v.To, v.Host
		case string:
			return v, netip.AddrPort{}, ""
		case *string:
			return *v, netip.AddrPort{}, ""
		}
		t.Fatalf("unexpected %T", m)
		return "", netip.AddrPort{}, ""
	}
	for i, m := range got {
		gd, ga, gh := data(m)
		od, oa, oh := data(in[i])
		if od != "abcdef" {
			t.Fatalf("message %d (%T): the sender's payload changed to %q", i, in[i], od)
		}
		if ga != oa || gh != oh {
			t.Fatalf("message %d (%T): address changed", i, m)
		}
		if n := differingBits([]byte(gd), []byte(od)); n != 1 {
			t.Fatalf("message %d (%T): %d bits differ", i, m, n)
		}
	}
}

func TestCorruptRateAndEmpty(t *testing.T) {
	in := make([][]byte, 10_000)
	for i := range in {
		in[i] = []byte{0, 0, 0, 0}
	}
	in[0] = []byte{}
	s := simulate.Corrupt(0.1, simulate.Seed(3))
	got := through(t, s, in)
	damaged := 0
	for _, m := range got {
		if !bytes.Equal(m.([]byte), make([]byte, len(m.([]byte)))) {
			damaged++
		}
	}
	if st := s.Stats(); st.Corrupted != uint64(damaged) || damaged < 850 || damaged > 1150 {
		t.Fatalf("seed %d: %d damaged, stats %v", s.Seed(), damaged, st)
	}
	if len(got[0].([]byte)) != 0 {
		t.Fatalf("empty payload became %v", got[0])
	}
}

func TestCorruptReportsOtherTypes(t *testing.T) {
	ctx := axontest.Context(t)
	s := simulate.Corrupt(1, simulate.Seed(1))
	h := axontest.Start(t, ctx, s)
	axontest.Tap(t, h, simulate.ErrorsBox)
	axontest.Put(t, ctx, h, axon.InboxName, 42)
	if got := axontest.Get(t, ctx, h, axon.OutboxName); got != 42 {
		t.Fatalf("got %v, want 42 unchanged", got)
	}
	e, ok := axontest.Get(t, ctx, h, simulate.ErrorsBox).(*simulate.Error)
	if !ok {
		t.Fatal("no *simulate.Error on errors")
	}
	if !errors.Is(e, simulate.ErrBadMessage) || e.Box != "inbox" || e.Component != s.String() {
		t.Fatalf("error %#v", e)
	}
	for _, part := range []string{s.String(), "inbox", "int", "unchanged"} {
		if !strings.Contains(e.Error(), part) {
			t.Fatalf("error %q does not mention %q", e, part)
		}
	}
	if st := s.Stats(); st.Unsupported != 1 || st.Errors != 1 || st.Out != 1 {
		t.Fatalf("stats %v", st)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
}

func TestDuplicateAndCorruptReproducible(t *testing.T) {
	in := make([][]byte, 1000)
	for i := range in {
		in[i] = []byte{byte(i), byte(i >> 8), 0, 0, 0, 0, 0, 0}
	}
	flatten := func(msgs []any) string {
		var b strings.Builder
		for _, m := range msgs {
			b.Write(m.([]byte))
			b.WriteByte('|')
		}
		return b.String()
	}
	for _, mk := range []func(seed uint64) *simulate.Stage{
		func(seed uint64) *simulate.Stage { return simulate.Duplicate(0.3, simulate.Seed(seed)) },
		func(seed uint64) *simulate.Stage { return simulate.Corrupt(0.3, simulate.Bits(2), simulate.Seed(seed)) },
	} {
		a, b, c := flatten(through(t, mk(1), in)), flatten(through(t, mk(1), in)), flatten(through(t, mk(2), in))
		if a != b {
			t.Fatalf("%s: same seed, different output", mk(1).Kind())
		}
		if a == c {
			t.Fatalf("%s: different seeds, same output", mk(1).Kind())
		}
	}
}

func TestStatsString(t *testing.T) {
	st := simulate.Stats{Stage: "Loss", In: 10, Out: 8, Dropped: 2}
	if got := st.String(); got != "Loss in=10 out=8 dropped=2" {
		t.Fatalf("got %q", got)
	}
	if got := (simulate.Stats{Stage: "Delay"}).String(); got != "Delay in=0 out=0" {
		t.Fatalf("got %q", got)
	}
}
