package fragment

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// formatErrors are the errors Parse may return.
var formatErrors = []error{ErrTruncated, ErrBadMagic, ErrBadVersion, ErrZeroCount, ErrBadIndex, ErrBadCount, ErrBadLength}

func isFormatError(err error) bool {
	for _, e := range formatErrors {
		if err == e {
			return true
		}
	}
	return false
}

// FuzzParseHeader feeds Parse any bytes. It must not panic; what
// it accepts must keep the format's rules and encode back to exactly the
// same bytes (the encoding is canonical); what it refuses, it refuses with
// one of the format errors. The bytes also give the fields of a header,
// made to agree, which must encode and parse back unchanged.
func FuzzParseHeader(f *testing.F) {
	for _, s := range [][]byte{
		nil,
		[]byte("KMFR"),
		encodeRaw(1, 0, 1, 0, 0, "", ""),
		encodeRaw(0x0102030405060708, 2, 3, 10, 4, "topic", "ij"),
		encodeRaw(^uint64(0), 0, 1, 5, 5, "", "hello"),
		encodeRaw(1, 0, 0, 0, 0, "", ""),
		encodeRaw(1, 3, 3, 10, 4, "", "xx"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Parse(b)
		if err != nil {
			if !isFormatError(err) {
				t.Fatalf("Parse: unexpected error %v", err)
			}
		} else {
			if fr.Count == 0 || fr.Index >= fr.Count {
				t.Fatalf("accepted index %d of %d", fr.Index, fr.Count)
			}
			if end := fr.offset() + uint64(len(fr.Data)); end > uint64(fr.Total) {
				t.Fatalf("accepted a piece ending at %d of a %d-byte message", end, fr.Total)
			}
			enc, err := fr.Append(nil)
			if err != nil {
				t.Fatalf("Append of a parsed fragment: %v", err)
			}
			if !bytes.Equal(enc, b) {
				t.Fatalf("parse then encode:\n got %q\nwant %q", enc, b)
			}
		}
		if len(b) < 20 {
			return
		}
		h := headerFrom(b)
		enc, err := h.Append(nil)
		if err != nil {
			t.Fatalf("Append(%+v): %v", h, err)
		}
		back, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse(Append(%+v)): %v", h, err)
		}
		if !partsEqual(back, h) {
			t.Fatalf("round trip: got %+v, want %+v", back, h)
		}
	})
}

// headerFrom makes a valid fragment from the fields in b (at least 20
// bytes long).
func headerFrom(b []byte) Part {
	h := Part{ID: binary.BigEndian.Uint64(b)}
	total := binary.BigEndian.Uint32(b[8:]) % 5000
	size := 1 + uint32(binary.BigEndian.Uint16(b[12:]))%600
	h.Total = total
	if total <= size {
		h.Count, h.Size = 1, total
	} else {
		h.Count, h.Size = (total+size-1)/size, size
	}
	h.Index = binary.BigEndian.Uint32(b[14:]) % h.Count
	h.Topic = bytes.Repeat(b[18:19], int(b[19]))
	h.Data = make([]byte, h.pieceLen())
	for i := range h.Data {
		h.Data[i] = byte(i) ^ b[0]
	}
	return h
}

// The reassembler fuzzer's setting: three honest senders and an attacker.
var (
	fuzzSenders = []netip.AddrPort{
		netip.MustParseAddrPort("192.0.2.1:26000"),
		netip.MustParseAddrPort("192.0.2.1:26001"),
		netip.MustParseAddrPort("[2001:db8::1]:26000"),
	}
	fuzzAttacker = netip.MustParseAddrPort("198.51.100.66:26000")
	fuzzTopics   = []string{"", "a", "b"} // the listener wants "" and "a"
)

const (
	fuzzBudget      = 3000
	fuzzMaxMessage  = 2100
	fuzzMaxAge      = time.Second
	fuzzMaxMessages = 200 // well under RecentMessages
)

// fuzzSent is a message an honest sender sent.
type fuzzSent struct {
	topic     string
	data      []byte
	fragments int
	delivered map[int]bool // fragment indexes delivered at least once
	lost      bool         // a fragment was lost
	completed bool
}

type fuzzKey struct {
	from netip.AddrPort
	id   uint64
}

type fuzzDatagram struct {
	from netip.AddrPort
	key  fuzzKey
	d    []byte
}

// script reads a fuzz input as numbers; it gives zeros once used up.
type script struct {
	b    []byte
	used bool
}

func (s *script) byte() byte {
	if len(s.b) == 0 {
		s.used = true
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

// FuzzReassembler runs a script of operations on a Reassembler: honest
// senders starting messages, fragments delivered in any order, lost,
// duplicated, corrupted or contradicted, an attacker sending anything,
// and the clock moving on. Each byte chooses an operation and the next
// few its arguments:
//
//	0 s n m t  sender s%3 starts a message of n*8+m%8 bytes on topic t%3
//	1 i        deliver queued fragment i (any order)
//	2 i        deliver delivered fragment i again
//	3 i        lose queued fragment i
//	4 n ...    the attacker sends the next n%64 bytes as a datagram
//	5 i k      deliver a copy of fragment i corrupted in way k (must be
//	           refused as malformed)
//	6 i k      deliver a copy of delivered fragment i whose count, length
//	           or size are changed (must be refused)
//	7 n        the clock moves on n*10ms; Expire if n is odd
//
// Whatever the script, nothing panics, every message completed for an
// honest sender is exactly one it sent (its own, whole, once), the memory
// held stays within the budget and is accounted exactly, and when nothing
// was given up every message whose fragments all arrived is complete.
func FuzzReassembler(f *testing.F) {
	for _, seed := range reassemblerSeeds() {
		f.Add(seed)
	}
	f.Fuzz(runReassemblerScript)
}

// runReassemblerScript runs one FuzzReassembler script.
func runReassemblerScript(t *testing.T, input []byte) {
	{
		clk := newFakeClock()
		r, err := NewReassembler(Clock(clk.now), MaxAge(fuzzMaxAge), Budget(fuzzBudget),
			MaxMessage(fuzzMaxMessage), Topics("", "a"))
		if err != nil {
			t.Fatal(err)
		}
		s := &script{b: input}
		frags := make([]*Splitter, len(fuzzSenders))
		base := uint64(s.byte()) << 56 // the senders' ids start alike
		for i := range frags {
			frags[i] = newSplitter("", HeaderLen+1+32*(i+1), fuzzMaxMessage, base)
		}
		sent := map[fuzzKey]*fuzzSent{}
		var queue, delivered []fuzzDatagram
		messages := 0

		add := func(from netip.AddrPort, d []byte) (Message, bool, error) {
			m, done, err := r.Add(from, d)
			checkPending(t, r)
			if err != nil && done {
				t.Fatalf("Add returned a message and %v", err)
			}
			if !done || from == fuzzAttacker {
				return m, done, err
			}
			p, perr := Parse(d)
			if perr != nil {
				t.Fatalf("a malformed datagram completed a message: %v", perr)
			}
			k := fuzzKey{from, p.ID}
			want := sent[k]
			switch {
			case want == nil:
				t.Fatalf("completed a message %v never sent", k)
			case want.completed:
				t.Fatalf("message %v completed twice", k)
			case m.From != from || m.Topic != want.topic || !bytes.Equal(m.Data, want.data):
				t.Fatalf("message %v: got %d bytes on %q from %v, want %d on %q", k, len(m.Data), m.Topic, m.From, len(want.data), want.topic)
			case want.topic == "b":
				t.Fatalf("message %v on an unwanted topic completed", k)
			}
			want.completed = true
			return m, done, err
		}
		pick := func(list []fuzzDatagram) int { return int(s.byte()) % len(list) }

		for {
			op := s.byte()
			if s.used {
				break
			}
			switch op % 8 {
			case 0:
				i, n, m, tp := int(s.byte())%len(fuzzSenders), int(s.byte()), int(s.byte()), int(s.byte())
				if messages >= fuzzMaxMessages {
					continue
				}
				messages++
				from, topic := fuzzSenders[i], fuzzTopics[tp%len(fuzzTopics)]
				data := pattern(uint64(messages), n*8+m%8)
				k := fuzzKey{from, frags[i].NextID()}
				seq, err := frags[i].SplitTopic(topic, data)
				if err != nil {
					t.Fatal(err)
				}
				st := &fuzzSent{topic: topic, data: data, delivered: map[int]bool{}}
				for d := range seq {
					queue = append(queue, fuzzDatagram{from, k, d})
					st.fragments++
				}
				sent[k] = st
			case 1:
				if len(queue) == 0 {
					continue
				}
				j := pick(queue)
				fd := queue[j]
				queue = append(queue[:j], queue[j+1:]...)
				p, _ := Parse(fd.d)
				sent[fd.key].delivered[int(p.Index)] = true
				delivered = append(delivered, fd)
				add(fd.from, fd.d)
			case 2:
				if len(delivered) == 0 {
					continue
				}
				fd := delivered[pick(delivered)]
				if _, done, _ := add(fd.from, fd.d); done {
					t.Fatal("a duplicate completed a message")
				}
			case 3:
				if len(queue) == 0 {
					continue
				}
				j := pick(queue)
				sent[queue[j].key].lost = true
				queue = append(queue[:j], queue[j+1:]...)
			case 4:
				n := int(s.byte()) % 64
				d := make([]byte, 0, n)
				for range n {
					d = append(d, s.byte())
				}
				add(fuzzAttacker, d)
			case 5:
				all := append(queue[:len(queue):len(queue)], delivered...)
				if len(all) == 0 {
					continue
				}
				fd := all[pick(all)]
				d := corrupt(fd.d, s.byte())
				if _, done, err := add(fd.from, d); done || !isFormatError(err) {
					t.Fatalf("corrupted fragment %q: done %v, err %v", d, done, err)
				}
			case 6:
				if len(delivered) == 0 {
					continue
				}
				fd := delivered[pick(delivered)]
				d := contradict(t, fd.d, s.byte())
				if _, done, err := add(fd.from, d); done || err == nil {
					t.Fatalf("contradicting fragment: done %v, err %v", done, err)
				}
			case 7:
				n := s.byte()
				clk.advance(time.Duration(n) * 10 * time.Millisecond)
				if n%2 == 1 {
					r.Expire()
					checkPending(t, r)
				}
			}
		}

		st := r.Stats()
		t.Logf("%d messages sent; %+v", messages, st)
		if st.Expired != 0 || st.Evicted != 0 {
			return
		}
		for k, m := range sent {
			if m.topic != "b" && !m.lost && len(m.delivered) == m.fragments && !m.completed {
				t.Errorf("message %v: all %d fragments delivered, nothing given up, not complete (%+v)", k, m.fragments, st)
			}
		}
	}
}

// reassemblerSeeds are scripts for FuzzReassembler (also in
// testdata/fuzz/FuzzReassembler).
func reassemblerSeeds() [][]byte {
	rep := func(n int, ops ...byte) []byte { return bytes.Repeat(ops, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	return [][]byte{
		// One message from sender 0, in order, then a duplicate.
		cat([]byte{0, 0, 0, 40, 0, 0}, rep(10, 1, 0), []byte{2, 3}),
		// Two senders with the same ids, interleaved in a scrambled order,
		// with duplicates; then the clock moves on.
		cat([]byte{7, 0, 1, 50, 3, 1, 0, 2, 50, 5, 0}, rep(15, 1, 5, 1, 17, 2, 9), []byte{7, 200, 1, 0}),
		// Three large messages: the budget evicts the oldest; corrupted
		// and contradicting fragments, and an attacker.
		cat([]byte{0, 0, 0, 250, 0, 0, 0, 1, 250, 0, 0, 0, 2, 250, 0, 1}, rep(6, 1, 0, 1, 40, 1, 90),
			[]byte{5, 3, 2, 5, 9, 4, 6, 1, 0, 6, 2, 1, 4, 8, 'K', 'M', 'F', 'R', 1, 0, 0, 0}, rep(20, 1, 7)),
		// A message expires; its last fragments come late.
		cat([]byte{0, 0, 2, 30, 1, 0, 1, 0, 1, 0, 7, 101}, rep(8, 1, 0)),
		// An unwanted topic, a lost fragment and an empty message.
		cat([]byte{0, 0, 1, 20, 0, 2, 0, 0, 0, 0, 0, 0, 3, 2}, rep(12, 1, 1)),
		// The attacker sends a well-formed fragment of a message of two.
		cat([]byte{0, 4, 40}, encodeRaw(5, 1, 2, 20, 10, "", "0123456789")),
	}
}

// corrupt returns a copy of fragment d broken in one of several ways, by
// k, so that it no longer parses.
func corrupt(d []byte, k byte) []byte {
	c := bytes.Clone(d)
	switch k % 7 {
	case 0:
		c[k%4] ^= 1 + k>>3 // magic
	case 1:
		c[4] = 2 + k%200 // version
	case 2:
		binary.BigEndian.PutUint32(c[18:], 0) // count
	case 3:
		copy(c[14:18], c[18:22]) // index = count
	case 4:
		return c[:min(len(c)-1, HeaderLen-1+int(k>>3)%(int(c[5])+1))] // truncated header or topic
	case 5:
		return append(c, k) // a byte too many
	case 6:
		if len(c) > HeaderLen+int(c[5]) {
			return c[:len(c)-1] // a byte too few
		}
		c[5]++ // an empty piece: the topic claims one byte more
	}
	return c
}

// contradict returns a copy of fragment d, still well formed, with the
// message's count, length, size or id changed by k.
func contradict(t *testing.T, d []byte, k byte) []byte {
	p, err := Parse(d)
	if err != nil {
		t.Fatal(err)
	}
	g := p
	g.Data = nil
	switch k % 3 {
	case 0: // another length, the same size
		g.Total = p.Total + 1 + uint32(k>>2)
	case 1: // shorter, by up to a fragment
		g.Total = p.Total - min(p.Total, 1+uint32(k>>2))
	case 2: // another size
		g.Size = p.Size + 1 + uint32(k>>2)
	}
	if g.Total <= g.Size || g.Size == 0 {
		g.Count, g.Size = 1, g.Total
	} else {
		g.Count = (g.Total + g.Size - 1) / g.Size
	}
	g.Index = min(p.Index, g.Count-1)
	g.Data = make([]byte, g.pieceLen())
	if g.Count == p.Count && g.Total == p.Total && g.Size == p.Size {
		g.Total++ // nothing changed: change the length after all
		if g.Count == 1 {
			g.Size = g.Total
		}
		if g.Total > g.Size*g.Count {
			g.Count++
		}
		g.Data = make([]byte, g.pieceLen())
	}
	out, err := g.Append(nil)
	if err != nil {
		t.Fatalf("contradict %+v: %v", g, err)
	}
	return out
}
