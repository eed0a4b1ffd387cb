package fragment

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var (
	alice = netip.MustParseAddrPort("192.0.2.1:26000")
	bob   = netip.MustParseAddrPort("[2001:db8::2]:26000")
	carol = netip.MustParseAddrPort("192.0.2.1:26001") // alice's host, another port
)

// fakeClock is a clock tests move by hand. It may be read from other
// goroutines (a Listener's).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// smallSplitter makes fragments with 100 bytes of message each, less
// the topic's length.
func smallSplitter(first uint64) *Splitter {
	return newSplitter("", HeaderLen+100, DefaultMaxMessage, first)
}

func newTestReassembler(t testing.TB, opts ...Option) *Reassembler {
	t.Helper()
	r, err := NewReassembler(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// deliver adds each datagram and returns the messages completed.
func deliver(t testing.TB, r *Reassembler, from netip.AddrPort, ds ...[]byte) []Message {
	t.Helper()
	var out []Message
	for _, d := range ds {
		m, done, err := r.Add(from, d)
		if err != nil {
			t.Fatalf("Add from %v: %v", from, err)
		}
		if done {
			out = append(out, m)
		}
	}
	return out
}

// checkPending checks the Reassembler's accounting against its parts.
func checkPending(t testing.TB, r *Reassembler) {
	t.Helper()
	var sum int64
	n := 0
	for p := r.oldest; p != nil; p = p.newer {
		sum += p.cost
		n++
		if r.parts[p.key] != p {
			t.Fatalf("message %v in the age list but not the map", p.key)
		}
	}
	s := r.Stats()
	if n != len(r.parts) || s.Incomplete != n || s.BytesPending != sum || r.pending != sum {
		t.Fatalf("accounting: list %d, map %d, Incomplete %d; costs %d, pending %d, BytesPending %d",
			n, len(r.parts), s.Incomplete, sum, r.pending, s.BytesPending)
	}
	if sum > r.budget {
		t.Fatalf("%d bytes pending, budget %d", sum, r.budget)
	}
}

func TestReassembleOutOfOrder(t *testing.T) {
	fr := smallSplitter(1)
	msg := pattern(1, 1000)
	ds := split(t, fr, "", msg)
	if len(ds) != 10 {
		t.Fatalf("%d fragments, want 10", len(ds))
	}
	orders := map[string][]int{
		"reversed":   {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
		"last first": {9, 0, 1, 2, 3, 4, 5, 6, 7, 8},
		"shuffled":   rand.New(rand.NewPCG(1, 2)).Perm(10),
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			r := newTestReassembler(t)
			for i, j := range order {
				m, done, err := r.Add(alice, ds[j])
				if err != nil {
					t.Fatal(err)
				}
				if done != (i == len(order)-1) {
					t.Fatalf("fragment %d (%dth): done = %v", j, i, done)
				}
				if done && !bytes.Equal(m.Data, msg) {
					t.Fatal("reassembled message differs")
				}
				checkPending(t, r)
			}
			if s := r.Stats(); s.Completed != 1 || s.Fragments != 10 || s.BytesPending != 0 || s.Dropped.Total() != 0 {
				t.Errorf("Stats = %+v", s)
			}
		})
	}
}

func TestReassembleDuplicates(t *testing.T) {
	fr := smallSplitter(1)
	msg := pattern(2, 450)
	ds := split(t, fr, "dup", msg)
	r := newTestReassembler(t)
	var got []Message
	for i, d := range ds[:len(ds)-1] {
		got = append(got, deliver(t, r, alice, d)...)
		for range 2 {
			if _, done, err := r.Add(alice, ds[i]); err != ErrDuplicate || done {
				t.Fatalf("duplicate of fragment %d: done %v, err %v", i, done, err)
			}
		}
		// An earlier fragment again, too.
		if _, _, err := r.Add(alice, ds[0]); err != ErrDuplicate {
			t.Fatalf("fragment 0 again: err %v", err)
		}
	}
	got = append(got, deliver(t, r, alice, ds[len(ds)-1])...)
	if len(got) != 1 || !bytes.Equal(got[0].Data, msg) || got[0].Topic != "dup" {
		t.Fatalf("got %d messages", len(got))
	}
	// Fragments of a message already complete are duplicates too, not the
	// start of a new message.
	for _, d := range ds {
		if _, done, err := r.Add(alice, d); err != ErrDuplicate || done {
			t.Fatalf("fragment of a finished message: done %v, err %v", done, err)
		}
	}
	s := r.Stats()
	wantDup := uint64(3*(len(ds)-1) + len(ds))
	if s.Completed != 1 || s.Fragments != uint64(len(ds)) || s.Dropped.Duplicate != wantDup || s.Dropped.Total() != wantDup || s.Incomplete != 0 {
		t.Errorf("Stats = %+v, want 1 completed, %d fragments, %d duplicates", s, len(ds), wantDup)
	}
}

func TestReassembleOneFragmentDuplicate(t *testing.T) {
	fr := smallSplitter(5)
	r := newTestReassembler(t)
	d := split(t, fr, "", []byte("short"))
	if len(d) != 1 {
		t.Fatal("want one fragment")
	}
	if got := deliver(t, r, alice, d[0]); len(got) != 1 || string(got[0].Data) != "short" {
		t.Fatalf("got %v", got)
	}
	if _, done, err := r.Add(alice, d[0]); err != ErrDuplicate || done {
		t.Fatalf("again: done %v, err %v: delivered twice", done, err)
	}
	// The same bytes from another sender are another message.
	if got := deliver(t, r, bob, d[0]); len(got) != 1 || got[0].From != bob {
		t.Fatalf("from bob: %v", got)
	}
}

// Two senders whose message ids are the same, interleaved fragment by
// fragment, with a third on one's host at another port: each message
// comes back whole, from the right sender, never mixed.
func TestReassembleInterleavedSenders(t *testing.T) {
	senders := []netip.AddrPort{alice, bob, carol}
	msgs := make([][]byte, len(senders))
	frags := make([][][]byte, len(senders))
	for i := range senders {
		msgs[i] = pattern(uint64(10+i), 700+50*i)
		frags[i] = split(t, smallSplitter(42), "same", msgs[i]) // the same id for all
	}
	r := newTestReassembler(t)
	got := map[netip.AddrPort][]byte{}
	for j := 0; ; j++ {
		more := false
		for i, s := range senders {
			if j >= len(frags[i]) {
				continue
			}
			more = true
			for _, m := range deliver(t, r, s, frags[i][j]) {
				if _, dup := got[m.From]; dup {
					t.Fatalf("two messages from %v", m.From)
				}
				got[m.From] = m.Data
			}
		}
		if !more {
			break
		}
	}
	for i, s := range senders {
		if !bytes.Equal(got[s], msgs[i]) {
			t.Errorf("%v: got %d bytes, want its own %d", s, len(got[s]), len(msgs[i]))
		}
	}
	checkPending(t, r)
}

// One sender's messages interleaved (two Broadcasters behind one socket).
func TestReassembleInterleavedMessages(t *testing.T) {
	a, b := smallSplitter(100), smallSplitter(200)
	ma, mb := pattern(1, 930), pattern(2, 510)
	da, db := split(t, a, "a", ma), split(t, b, "b", mb)
	r := newTestReassembler(t)
	var got []Message
	for i := range max(len(da), len(db)) {
		if i < len(db) {
			got = append(got, deliver(t, r, alice, db[len(db)-1-i])...)
		}
		if i < len(da) {
			got = append(got, deliver(t, r, alice, da[i])...)
		}
	}
	if len(got) != 2 || got[0].Topic != "b" || !bytes.Equal(got[0].Data, mb) || got[1].Topic != "a" || !bytes.Equal(got[1].Data, ma) {
		t.Fatalf("got %d messages, want b then a, each whole", len(got))
	}
}

func TestReassembleMismatch(t *testing.T) {
	fr := smallSplitter(7)
	msg := pattern(3, 350)
	ds := split(t, fr, "", msg) // 4 fragments: 100, 100, 100, 50
	r := newTestReassembler(t)
	deliver(t, r, alice, ds[0])
	f, _ := Parse(ds[1])
	bad := func(change func(*Part)) []byte {
		g := f
		g.Topic, g.Data = append([]byte(nil), f.Topic...), append([]byte(nil), f.Data...)
		change(&g)
		b, err := g.Append(nil)
		if err != nil {
			t.Fatalf("making a mismatched fragment: %v", err)
		}
		return b
	}
	for name, d := range map[string][]byte{
		"count and length": bad(func(g *Part) { g.Count, g.Total = 5, 450 }),
		"length":           bad(func(g *Part) { g.Total = 320 }),
		"size":             bad(func(g *Part) { g.Count, g.Size, g.Data = 7, 50, g.Data[:50] }),
		"topic":            bad(func(g *Part) { g.Topic = []byte("u") }),
	} {
		if _, done, err := r.Add(alice, d); err != ErrMismatch || done {
			t.Errorf("%s changed: done %v, err %v, want ErrMismatch", name, done, err)
		}
	}
	// Progress is kept: the real fragments still complete the message.
	got := deliver(t, r, alice, ds[1], ds[2], ds[3])
	if len(got) != 1 || !bytes.Equal(got[0].Data, msg) {
		t.Fatal("message not completed after mismatched fragments")
	}
	if s := r.Stats(); s.Dropped.Mismatch != 4 || s.Fragments != 4 || s.Completed != 1 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestReassembleExpiresByAge(t *testing.T) {
	clk := newFakeClock()
	r := newTestReassembler(t, Clock(clk.now), MaxAge(2*time.Second))
	fr := smallSplitter(1)
	old := split(t, fr, "", pattern(1, 500))
	young := split(t, fr, "", pattern(2, 500))

	deliver(t, r, alice, old[0], old[1], old[2])
	clk.advance(time.Second)
	deliver(t, r, alice, young[0])
	clk.advance(time.Second - time.Nanosecond)
	if n := r.Expire(); n != 0 {
		t.Fatalf("Expire gave up %d messages before MaxAge", n)
	}
	clk.advance(time.Nanosecond)
	if n := r.Expire(); n != 1 {
		t.Fatalf("Expire at MaxAge gave up %d messages, want 1", n)
	}
	s := r.Stats()
	if s.Expired != 1 || s.Dropped.Expired != 3 || s.Incomplete != 1 {
		t.Fatalf("Stats = %+v, want 1 expired with 3 fragments, 1 incomplete", s)
	}
	checkPending(t, r)
	// What is left of the old message comes too late.
	for _, d := range old[3:] {
		if _, _, err := r.Add(alice, d); err != ErrLate {
			t.Fatalf("fragment of an expired message: err %v, want ErrLate", err)
		}
	}
	// Add gives up old messages itself: the young one's time comes.
	clk.advance(time.Second)
	if _, _, err := r.Add(alice, young[1]); err != ErrLate {
		t.Fatalf("fragment of a message expired by Add: err %v, want ErrLate", err)
	}
	s = r.Stats()
	if s.Expired != 2 || s.Dropped.Expired != 4 || s.Dropped.Late != 3 || s.Incomplete != 0 || s.BytesPending != 0 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestReassembleBudgetEvictsOldest(t *testing.T) {
	fr := smallSplitter(1)
	msgs := [][]byte{pattern(1, 1000), pattern(2, 1000), pattern(3, 1000)}
	var ds [][][]byte
	for _, m := range msgs {
		ds = append(ds, split(t, fr, "", m))
	}
	one := int64(partialOverhead + 1000 + 8) // what each costs
	r := newTestReassembler(t, Budget(int(2*one+one/2)))
	deliver(t, r, alice, ds[0][0])
	deliver(t, r, alice, ds[1][0])
	checkPending(t, r)
	if p := r.Stats().BytesPending; p != 2*one {
		t.Fatalf("BytesPending = %d, want %d", p, 2*one)
	}
	deliver(t, r, alice, ds[2][0]) // evicts message 0, the oldest
	checkPending(t, r)
	s := r.Stats()
	if s.Evicted != 1 || s.Dropped.Evicted != 1 || s.Incomplete != 2 {
		t.Fatalf("Stats = %+v, want 1 evicted", s)
	}
	if _, _, err := r.Add(alice, ds[0][1]); err != ErrLate {
		t.Fatalf("fragment of the evicted message: err %v, want ErrLate", err)
	}
	got := deliver(t, r, alice, ds[1][1:]...)
	got = append(got, deliver(t, r, alice, ds[2][1:]...)...)
	if len(got) != 2 || !bytes.Equal(got[0].Data, msgs[1]) || !bytes.Equal(got[1].Data, msgs[2]) {
		t.Fatal("the two newer messages did not complete")
	}
	checkPending(t, r)
}

func TestReassembleRefusesWithoutAllocating(t *testing.T) {
	fr := smallSplitter(1)
	big := split(t, newSplitter("", MaxDatagramSize, 1<<30, 1), "", make([]byte, 2<<20))
	wide := split(t, fr, "", make([]byte, 2000))
	other := split(t, fr, "other", make([]byte, 500))
	r := newTestReassembler(t, MaxMessage(1<<20), Budget(1500), Topics("", "mine"))
	cases := []struct {
		name string
		d    []byte
		want error
	}{
		{"too large", big[3], ErrTooLarge},
		{"over budget", wide[1], ErrOverBudget},
		{"unwanted topic", other[2], ErrUnwantedTopic},
	}
	for _, tc := range badFragments {
		cases = append(cases, struct {
			name string
			d    []byte
			want error
		}{tc.name, tc.b, tc.want})
	}
	for _, tc := range cases {
		if _, _, err := r.Add(alice, tc.d); err != tc.want {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if n := testing.AllocsPerRun(50, func() { _, _, _ = r.Add(alice, tc.d) }); n != 0 {
			t.Errorf("%s: %v allocations", tc.name, n)
		}
	}
	s := r.Stats()
	if s.Incomplete != 0 || s.BytesPending != 0 || s.Fragments != 0 {
		t.Errorf("refused fragments were kept: %+v", s)
	}
	per := uint64(52) // one Add, then AllocsPerRun's warm-up and 50 runs
	if s.Dropped.TooLarge != 2*per || s.Dropped.Unwanted != per || s.Dropped.Malformed != uint64(len(badFragments))*per {
		t.Errorf("Dropped = %+v", s.Dropped)
	}
}

func TestReassembleTopics(t *testing.T) {
	fr := smallSplitter(1)
	send := map[string][][]byte{}
	for _, topic := range []string{"", "a", "b", "c"} {
		send[topic] = split(t, fr, topic, pattern(uint64(len(topic)), 250))
	}
	for _, tc := range []struct {
		name   string
		opts   []Option
		wanted []string
	}{
		{"no Topics: all", nil, []string{"", "a", "b", "c"}},
		{"Topics(): all", []Option{Topics()}, []string{"", "a", "b", "c"}},
		{"one", []Option{Topics("b")}, []string{"b"}},
		{"a list", []Option{Topics("a", "c")}, []string{"a", "c"}},
		{"options add up", []Option{Topics("a"), Topics("b")}, []string{"a", "b"}},
		{"the empty topic", []Option{Topics("")}, []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestReassembler(t, tc.opts...)
			var got []string
			for _, topic := range []string{"", "a", "b", "c"} {
				for _, d := range send[topic] {
					m, done, err := r.Add(alice, d)
					if err != nil && err != ErrUnwantedTopic {
						t.Fatal(err)
					}
					if err == ErrUnwantedTopic && r.Stats().Incomplete != 0 {
						t.Fatal("an unwanted fragment was kept")
					}
					if done {
						got = append(got, m.Topic)
					}
				}
			}
			if len(got) != len(tc.wanted) {
				t.Fatalf("got topics %q, want %q", got, tc.wanted)
			}
			for i := range got {
				if got[i] != tc.wanted[i] {
					t.Fatalf("got topics %q, want %q", got, tc.wanted)
				}
			}
			unwanted := uint64(3 * (4 - len(tc.wanted)))
			if s := r.Stats(); s.Dropped.Unwanted != unwanted || s.Dropped.Total() != unwanted {
				t.Errorf("Dropped = %+v, want %d unwanted", s.Dropped, unwanted)
			}
		})
	}
}

func TestReassembleKeepsNothingOfTheDatagram(t *testing.T) {
	fr := smallSplitter(1)
	for _, n := range []int{5, 250} {
		msg := pattern(uint64(n), n)
		r := newTestReassembler(t)
		var got []Message
		for _, d := range split(t, fr, "keep", msg) {
			got = append(got, deliver(t, r, alice, d)...)
			for i := range d {
				d[i] = 0xAA // the caller reuses its buffer
			}
		}
		if len(got) != 1 || !bytes.Equal(got[0].Data, msg) || got[0].Topic != "keep" {
			t.Errorf("%d bytes: message changed with the datagrams", n)
		}
	}
}

func TestRecentRingForgetsOldest(t *testing.T) {
	var q recentRing
	key := func(i int) msgKey { return msgKey{from: alice, id: uint64(i)} }
	for i := range RecentMessages + 10 {
		q.add(key(i), i%2 == 0)
	}
	for i := range 10 {
		if _, ok := q.get(key(i)); ok {
			t.Fatalf("message %d still remembered after %d more", i, RecentMessages)
		}
	}
	for i := 10; i < RecentMessages+10; i++ {
		complete, ok := q.get(key(i))
		if !ok || complete != (i%2 == 0) {
			t.Fatalf("message %d: remembered %v, complete %v", i, ok, complete)
		}
	}
	if len(q.complete) != RecentMessages || len(q.keys) != RecentMessages {
		t.Errorf("holds %d keys, %d in the map", len(q.keys), len(q.complete))
	}
}

func TestDropsTotal(t *testing.T) {
	d := Drops{1, 2, 4, 8, 16, 32, 64, 128}
	if d.Total() != 255 {
		t.Errorf("Total = %d, want 255", d.Total())
	}
}

func TestMessageString(t *testing.T) {
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{Message{Topic: "weather", Data: []byte("rain\n"), From: alice}, "192.0.2.1:26000 weather: rain"},
		{Message{Topic: "w", Data: []byte("rain\r\n\n"), From: bob}, "[2001:db8::2]:26000 w: rain\r\n"},
		{Message{Data: []byte("x\r\n")}, ": x"},
		{Message{Topic: "t"}, "t: "},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%#v: got %q, want %q", tc.m, got, tc.want)
		}
	}
}
