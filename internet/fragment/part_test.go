package fragment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
)

// The layout documented in fragment.go, byte by byte.
func TestFragmentLayout(t *testing.T) {
	f := Part{ID: 0x0102030405060708, Index: 2, Count: 3, Total: 10, Size: 4, Topic: []byte("tp"), Data: []byte("xy")}
	got, err := f.Append([]byte("prefix"))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("prefix" +
		"KMFR" + "\x01" + "\x02" +
		"\x01\x02\x03\x04\x05\x06\x07\x08" +
		"\x00\x00\x00\x02" + "\x00\x00\x00\x03" + "\x00\x00\x00\x0a" + "\x00\x00\x00\x04" +
		"tp" + "xy")
	if !bytes.Equal(got, want) {
		t.Fatalf("Append:\n got %q\nwant %q", got, want)
	}
	if f.Len() != len(want)-len("prefix") {
		t.Errorf("Len = %d, want %d", f.Len(), len(want)-len("prefix"))
	}
	p, err := Parse(got[len("prefix"):])
	if err != nil {
		t.Fatal(err)
	}
	if !partsEqual(p, f) {
		t.Errorf("Parse = %+v, want %+v", p, f)
	}
}

func partsEqual(a, b Part) bool {
	return a.ID == b.ID && a.Index == b.Index && a.Count == b.Count && a.Total == b.Total &&
		a.Size == b.Size && bytes.Equal(a.Topic, b.Topic) && bytes.Equal(a.Data, b.Data)
}

// encodeRaw writes a header with any field values, unchecked, then tail.
func encodeRaw(id uint64, index, count, total, size uint32, topic, tail string) []byte {
	return append(appendHeader(nil, id, index, count, total, size, topic), tail...)
}

// badFragments are malformed datagrams and the error each must give.
var badFragments = []struct {
	name string
	b    []byte
	want error
}{
	{"empty", nil, ErrTruncated},
	{"three bytes", []byte("KMF"), ErrTruncated},
	{"magic only", []byte("KMFR"), ErrTruncated},
	{"header less one", encodeRaw(1, 0, 1, 0, 0, "", "")[:HeaderLen-1], ErrTruncated},
	{"topic cut short", encodeRaw(1, 0, 1, 0, 0, "topic", "")[:HeaderLen+3], ErrTruncated},
	{"bad magic", append([]byte("KMFX"), encodeRaw(1, 0, 1, 0, 0, "", "")[4:]...), ErrBadMagic},
	{"not a fragment", []byte("hello, world, this is plain text, not a fragment"), ErrBadMagic},
	{"version 0", func() []byte { b := encodeRaw(1, 0, 1, 0, 0, "", ""); b[4] = 0; return b }(), ErrBadVersion},
	{"version 2", func() []byte { b := encodeRaw(1, 0, 1, 0, 0, "", ""); b[4] = 2; return b }(), ErrBadVersion},
	{"count 0", encodeRaw(1, 0, 0, 0, 0, "", ""), ErrZeroCount},
	{"count 0 index 5", encodeRaw(1, 5, 0, 10, 4, "", ""), ErrZeroCount},
	{"index = count", encodeRaw(1, 3, 3, 10, 4, "", "xx"), ErrBadIndex},
	{"index huge", encodeRaw(1, 0xffffffff, 3, 10, 4, "", "xx"), ErrBadIndex},
	{"empty message in two", encodeRaw(1, 0, 2, 0, 0, "", ""), ErrBadCount},
	{"empty message with size", encodeRaw(1, 0, 1, 0, 1, "", ""), ErrBadCount},
	{"size 0", encodeRaw(1, 0, 3, 10, 0, "", ""), ErrBadCount},
	{"count too small", encodeRaw(1, 0, 2, 10, 4, "", "abcd"), ErrBadCount},
	{"count too large", encodeRaw(1, 0, 4, 10, 4, "", "abcd"), ErrBadCount},
	{"one fragment size short", encodeRaw(1, 0, 1, 10, 9, "", "0123456789"), ErrBadCount},
	{"one fragment size long", encodeRaw(1, 0, 1, 10, 11, "", "0123456789"), ErrBadCount},
	{"count overflow", encodeRaw(1, 0, 0xffffffff, 0xffffffff, 0xffffffff, "", ""), ErrBadCount},
	{"piece short", encodeRaw(1, 0, 3, 10, 4, "", "abc"), ErrBadLength},
	{"piece long", encodeRaw(1, 0, 3, 10, 4, "", "abcde"), ErrBadLength},
	{"last piece long", encodeRaw(1, 2, 3, 10, 4, "", "abc"), ErrBadLength},
	{"last piece short", encodeRaw(1, 2, 3, 10, 4, "", "a"), ErrBadLength},
	{"one fragment short", encodeRaw(1, 0, 1, 10, 10, "t", "012345678"), ErrBadLength},
	{"empty message with data", encodeRaw(1, 0, 1, 0, 0, "t", "x"), ErrBadLength},
}

func TestParseFragmentRejects(t *testing.T) {
	for _, tc := range badFragments {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.b)
			if err != tc.want { // returned unwrapped, so == holds
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !partsEqual(f, Part{}) || f.Topic != nil || f.Data != nil {
				t.Errorf("a refused fragment came back as %+v", f)
			}
		})
	}
}

func TestParseFragmentRejectsWithoutAllocating(t *testing.T) {
	for _, tc := range badFragments {
		if n := testing.AllocsPerRun(100, func() { _, _ = Parse(tc.b) }); n != 0 {
			t.Errorf("%s: %v allocations", tc.name, n)
		}
	}
	good := encodeRaw(1, 1, 3, 10, 4, "topic", "efgh")
	if n := testing.AllocsPerRun(100, func() { _, _ = Parse(good) }); n != 0 {
		t.Errorf("good fragment: %v allocations", n)
	}
}

func TestParseFragmentAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Part
	}{
		{"empty message", Part{ID: 7, Count: 1, Data: []byte{}}},
		{"one byte", Part{ID: 7, Count: 1, Total: 1, Size: 1, Data: []byte("x")}},
		{"first of three", Part{Index: 0, Count: 3, Total: 10, Size: 4, Data: []byte("abcd")}},
		{"last of three", Part{Index: 2, Count: 3, Total: 10, Size: 4, Data: []byte("ij")}},
		{"last, full", Part{Index: 1, Count: 2, Total: 8, Size: 4, Data: []byte("efgh")}},
		{"long topic", Part{ID: ^uint64(0), Count: 1, Total: 2, Size: 2, Topic: bytes.Repeat([]byte("t"), MaxTopicLen), Data: []byte("ok")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.f.Append(nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !partsEqual(got, tc.f) {
				t.Errorf("got %+v, want %+v", got, tc.f)
			}
		})
	}
}

func TestAppendRefusesWhatParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		f    Part
		want error
	}{
		{Part{Count: 0}, ErrZeroCount},
		{Part{Index: 1, Count: 1}, ErrBadIndex},
		{Part{Count: 2, Total: 10, Size: 4, Data: []byte("abcd")}, ErrBadCount},
		{Part{Count: 3, Total: 10, Size: 4, Data: []byte("abc")}, ErrBadLength},
		{Part{Count: 1, Topic: make([]byte, MaxTopicLen+1), Data: []byte{}}, ErrTopicTooLong},
	} {
		dst := []byte("keep")
		got, err := tc.f.Append(dst)
		if !errors.Is(err, tc.want) {
			t.Errorf("%+v: err = %v, want %v", tc.f, err, tc.want)
		}
		if string(got) != "keep" {
			t.Errorf("%+v: dst became %q", tc.f, got)
		}
	}
}

// split returns all of a message's datagrams.
func split(t testing.TB, f *Splitter, topic string, msg []byte) [][]byte {
	t.Helper()
	seq, err := f.SplitTopic(topic, msg)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Collect(seq)
}

// pattern returns n bytes that differ from one message to the next.
func pattern(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestFragmenterRoundTrip(t *testing.T) {
	const topic = "sizes"
	room := DefaultDatagramSize - HeaderLen - len(topic)
	sizes := []struct {
		name      string
		n         int
		fragments int
	}{
		{"empty", 0, 1},
		{"one byte", 1, 1},
		{"exactly one fragment", room, 1},
		{"one byte more", room + 1, 2},
		{"exactly two fragments", 2 * room, 2},
		{"1 MiB", 1 << 20, (1<<20 + room - 1) / room},
		{"16 MiB, the maximum", DefaultMaxMessage, (DefaultMaxMessage + room - 1) / room},
	}
	fr, err := NewSplitter(Topic(topic))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReassembler()
	if err != nil {
		t.Fatal(err)
	}
	from := netip.MustParseAddrPort("192.0.2.1:26000")
	firstID := fr.NextID()
	for i, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			msg := pattern(uint64(i), sz.n)
			id := fr.NextID()
			ds := split(t, fr, topic, msg)
			if len(ds) != sz.fragments {
				t.Fatalf("%d fragments, want %d", len(ds), sz.fragments)
			}
			for j, d := range ds {
				if len(d) > DefaultDatagramSize {
					t.Fatalf("datagram %d is %d bytes, more than %d", j, len(d), DefaultDatagramSize)
				}
				f, err := Parse(d)
				if err != nil {
					t.Fatalf("datagram %d: %v", j, err)
				}
				if f.ID != id || f.Index != uint32(j) || f.Count != uint32(len(ds)) || f.Total != uint32(sz.n) || string(f.Topic) != topic {
					t.Fatalf("datagram %d: header %+v", j, f)
				}
				if j < len(ds)-1 && len(d) != DefaultDatagramSize {
					t.Fatalf("datagram %d of %d is %d bytes: only the last may be short", j, len(ds), len(d))
				}
			}
			var got Message
			for j, d := range ds {
				m, done, err := r.Add(from, d)
				if err != nil {
					t.Fatalf("Add %d: %v", j, err)
				}
				if done != (j == len(ds)-1) {
					t.Fatalf("Add %d: done = %v", j, done)
				}
				got = m
			}
			if !bytes.Equal(got.Data, msg) || got.Topic != topic || got.From != from {
				t.Fatalf("reassembled %d bytes on %q from %v, want %d on %q from %v (equal: %v)",
					len(got.Data), got.Topic, got.From, len(msg), topic, from, bytes.Equal(got.Data, msg))
			}
			if got.Data == nil {
				t.Error("an empty message came back with nil Data")
			}
		})
	}
	if fr.NextID() != firstID+uint64(len(sizes)) {
		t.Errorf("%d messages took ids %#x to %#x", len(sizes), firstID, fr.NextID()-1)
	}

	t.Run("over the maximum", func(t *testing.T) {
		next := fr.NextID()
		_, err := fr.SplitTopic(topic, make([]byte, DefaultMaxMessage+1))
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
		if fr.NextID() != next {
			t.Error("a refused message used up an id")
		}
	})
}

func TestFragmenterIDs(t *testing.T) {
	a, _ := NewSplitter()
	b, _ := NewSplitter()
	if a.NextID() == b.NextID() {
		t.Errorf("two Fragmenters start at the same id %#x", a.NextID())
	}
	first := a.NextID()
	for i := range 3 {
		d := split(t, a, "", []byte("m"))
		f, err := Parse(d[0])
		if err != nil {
			t.Fatal(err)
		}
		if f.ID != first+uint64(i) {
			t.Errorf("message %d has id %#x, want %#x", i, f.ID, first+uint64(i))
		}
	}
	// The id wraps round.
	w := newSplitter("", DefaultDatagramSize, DefaultMaxMessage, ^uint64(0))
	split(t, w, "", nil)
	if w.NextID() != 0 {
		t.Errorf("after id 2^64-1 comes %#x, want 0", w.NextID())
	}
}

func TestFragmenterSequenceIsLazyAndRepeatable(t *testing.T) {
	fr := newSplitter("", MinDatagramSize, DefaultMaxMessage, 1)
	msg := pattern(9, 5000)
	seq, err := fr.Split(msg)
	if err != nil {
		t.Fatal(err)
	}
	var first [][]byte
	for d := range seq {
		first = append(first, d)
		if len(first) == 2 {
			break
		}
	}
	all := slices.Collect(seq)
	if len(first) != 2 || !bytes.Equal(first[0], all[0]) || !bytes.Equal(first[1], all[1]) {
		t.Fatal("reading the sequence again gave other datagrams")
	}
	all[0][HeaderLen] ^= 0xff // each datagram is the receiver's own
	if bytes.Equal(all[0], first[0]) {
		t.Error("two readings share a datagram's memory")
	}
}

func TestFragmenterDatagramSizes(t *testing.T) {
	for _, size := range []int{MinDatagramSize, 1000, DefaultDatagramSize, 9000, MaxDatagramSize} {
		fr, err := NewSplitter(DatagramSize(size), Topic("t"))
		if err != nil {
			t.Fatal(err)
		}
		msg := pattern(uint64(size), 3*size)
		ds := split(t, fr, "a much longer topic than the default one", msg)
		for i, d := range ds {
			if len(d) > size {
				t.Fatalf("DatagramSize(%d): datagram %d is %d bytes", size, i, len(d))
			}
		}
		if len(ds[0]) != size {
			t.Errorf("DatagramSize(%d): first datagram is %d bytes, not full", size, len(ds[0]))
		}
	}
}

func TestFragmentOptionsChecked(t *testing.T) {
	long := string(make([]byte, MaxTopicLen+1))
	for _, tc := range []struct {
		name string
		opt  Option
	}{
		{"datagram too small", DatagramSize(MinDatagramSize - 1)},
		{"datagram too large", DatagramSize(MaxDatagramSize + 1)},
		{"negative max", MaxMessage(-1)},
		{"max over 32 bits", MaxMessage(1 << 32)},
		{"age 0", MaxAge(0)},
		{"budget 0", Budget(0)},
		{"nil clock", Clock(nil)},
		{"negative rate", Rate(-1)},
		{"topic too long", Topic(long)},
		{"listened topic too long", Topics("ok", long)},
	} {
		if _, err := NewSplitter(tc.opt); !errors.Is(err, axon.ErrConfig) {
			t.Errorf("%s: NewSplitter: err = %v, want axon.ErrConfig", tc.name, err)
		}
		if _, err := NewReassembler(tc.opt); !errors.Is(err, axon.ErrConfig) {
			t.Errorf("%s: NewReassembler: err = %v, want axon.ErrConfig", tc.name, err)
		}
	}
	if _, err := NewSplitter(MaxMessage(1<<32-1), DatagramSize(MinDatagramSize), Topic(long[:MaxTopicLen])); err != nil {
		t.Errorf("limits themselves refused: %v", err)
	}
}

func TestSplitRefusesLongTopic(t *testing.T) {
	fr, _ := NewSplitter()
	next := fr.NextID()
	if _, err := fr.SplitTopic(string(make([]byte, MaxTopicLen+1)), []byte("x")); !errors.Is(err, ErrTopicTooLong) {
		t.Errorf("err = %v, want ErrTopicTooLong", err)
	}
	if fr.NextID() != next {
		t.Error("a refused message used up an id")
	}
}

// Fragmenting and reassembling 1 MiB messages, without sockets.
func BenchmarkSplitReassemble1MiB(b *testing.B) {
	msg := pattern(1, 1<<20)
	fr, _ := NewSplitter()
	r, _ := NewReassembler()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		seq, err := fr.Split(msg)
		if err != nil {
			b.Fatal(err)
		}
		done := false
		for d := range seq {
			_, done, err = r.Add(alice, d)
			if err != nil {
				b.Fatal(err)
			}
		}
		if !done {
			b.Fatal("message not completed")
		}
	}
}

// Refusing junk costs no allocation and little time.
func BenchmarkReassembleJunk(b *testing.B) {
	r, _ := NewReassembler(Topics("wanted"))
	d := split(b, smallSplitter(1), "unwanted", make([]byte, 50))[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Add(alice, d); err != ErrUnwantedTopic {
			b.Fatal(err)
		}
	}
}
