package fragment

import (
	"errors"
	"net/netip"
	"time"
)

// Message is a whole message: what a Broadcaster takes on "inbox" and what
// a Listener sends on "outbox" once it has every fragment.
type Message struct {
	Topic string         // at most MaxTopicLen bytes
	Data  []byte         // the message
	From  netip.AddrPort // the sender, as the Listener saw it; a Broadcaster ignores it
}

// String formats m as its sender (when known), its topic and a colon, and
// its payload with one trailing newline dropped, as udp.Datagram does:
// "192.0.2.1:26000 weather: rain" ("weather: rain" without a sender). A
// ConsoleEchoer prints Messages this way.
func (m Message) String() string {
	data := m.Data
	if n := len(data); n > 0 && data[n-1] == '\n' {
		data = data[:n-1]
		if n := len(data); n > 0 && data[n-1] == '\r' {
			data = data[:n-1]
		}
	}
	s := m.Topic + ": " + string(data)
	if m.From.IsValid() {
		s = m.From.String() + " " + s
	}
	return s
}

// Reasons a Reassembler drops a fragment, beyond the format errors of
// Parse and ErrTooLarge. Add returns them unwrapped.
var (
	// ErrUnwantedTopic: the fragment's topic is not one the receiver asked
	// for (Topics).
	ErrUnwantedTopic = errors.New("fragment: topic not wanted")
	// ErrOverBudget: the message would need more memory than the whole
	// Budget.
	ErrOverBudget = errors.New("fragment: message needs more than the memory budget")
	// ErrMismatch: the fragment's count, length, size or topic differ
	// from those of the first fragment taken for the same sender and id.
	ErrMismatch = errors.New("fragment: header differs from the message's first fragment")
	// ErrDuplicate: the fragment was already taken, or its message is
	// already complete.
	ErrDuplicate = errors.New("fragment: duplicate")
	// ErrLate: the fragment's message was given up (MaxAge or Budget)
	// before it arrived.
	ErrLate = errors.New("fragment: message already given up")
)

// Stats are a Reassembler's (and so a Listener's) counts so far.
//
// BytesPending counts, for each incomplete message, the buffer for its
// whole claimed length (allocated when its first fragment arrives), its
// topic, a bit per fragment, and 192 bytes for the bookkeeping. It never
// exceeds the Budget.
type Stats struct {
	Completed    uint64 // messages reassembled and handed on
	Fragments    uint64 // fragments taken into a message
	Dropped      Drops  // fragments dropped, by reason
	Expired      uint64 // incomplete messages given up for age (MaxAge)
	Evicted      uint64 // incomplete messages given up to stay within the Budget
	Incomplete   int    // messages being reassembled now
	BytesPending int64  // memory held for them, counted against the Budget
}

// Drops counts fragments dropped, by reason. Each fragment that arrives
// is counted once: in Stats.Fragments, or under one of Malformed,
// Unwanted, TooLarge, Mismatch, Duplicate or Late. Expired and Evicted
// count fragments that had been taken, and were thrown away with their
// incomplete message.
type Drops struct {
	Malformed uint64 // not a fragment, or a header that breaks the format
	Unwanted  uint64 // a topic not asked for (Topics)
	TooLarge  uint64 // claims a message longer than MaxMessage, or larger than the Budget
	Mismatch  uint64 // count, length, size or topic differ from the message's first fragment
	Duplicate uint64 // already taken, or of a message already complete
	Late      uint64 // of a message already given up
	Expired   uint64 // taken, then thrown away when their message grew too old
	Evicted   uint64 // taken, then thrown away to make room for newer messages
}

// Total returns the number of fragments dropped for every reason.
func (d Drops) Total() uint64 {
	return d.Malformed + d.Unwanted + d.TooLarge + d.Mismatch + d.Duplicate + d.Late + d.Expired + d.Evicted
}

// RecentMessages is how many finished messages (complete or given up) a
// Reassembler remembers, to drop their stray fragments as duplicates or
// late rather than start them again. A fragment of a message older than
// that is taken as the start of a new message, which is then given up
// in its turn (or, for a one-fragment message, delivered again).
const RecentMessages = 1024

// partialOverhead is what a message being reassembled costs beyond its
// buffer, its topic and its bitmap: the partial struct and its map entry,
// rounded up.
const partialOverhead = 192

// Reassembler puts fragmented messages back together (the wire format is
// documented on Part). It tells messages apart by the sender's
// address and port and the message id, so two senders never mix; takes
// fragments in any order; drops duplicates without losing what it has; and keeps
// within bounds: a message longer than MaxMessage is refused before
// anything is kept for it, an incomplete message is given up MaxAge
// after its first fragment, and the memory held for incomplete messages
// stays within the Budget, the oldest given up first to make room.
// Fragments of topics not asked for (Topics) are dropped before anything
// is kept. (A message in one fragment is complete as it arrives: it is
// never pending, and the Budget does not apply to it.)
//
// A Listener uses one; use one directly to receive fragments some other
// way. A Reassembler is not safe for use by several goroutines at once.
type Reassembler struct {
	maxMessage uint64
	maxAge     time.Duration
	budget     int64
	now        func() time.Time
	topics     map[string]struct{} // nil: every topic

	parts          map[msgKey]*partial
	oldest, newest *partial // incomplete messages, oldest first
	pending        int64    // sum of their costs
	recent         recentRing
	stats          Stats
}

// msgKey tells messages apart.
type msgKey struct {
	from netip.AddrPort
	id   uint64
}

// partial is a message being reassembled.
type partial struct {
	key                msgKey
	topic              string
	count, total, size uint32
	got                uint32   // fragments taken
	buf                []byte   // the message, Total bytes
	have               []uint64 // bit i set: fragment i taken
	born               time.Time
	cost               int64
	older, newer       *partial
}

// NewReassembler returns a Reassembler set by the options Topics,
// MaxMessage, MaxAge, Budget and Clock. The error, for an option out of
// range or one that does not apply, wraps axon.ErrConfig.
func NewReassembler(opts ...Option) (*Reassembler, error) {
	cfg, err := newConfig("Reassembler", reassemblerOptions, opts)
	if err != nil {
		return nil, err
	}
	return newReassembler(&cfg), nil
}

func newReassembler(cfg *config) *Reassembler {
	r := &Reassembler{
		maxMessage: uint64(cfg.maxMessage),
		maxAge:     cfg.maxAge,
		budget:     int64(cfg.budget),
		now:        cfg.now,
		parts:      make(map[msgKey]*partial),
	}
	if len(cfg.topics) > 0 {
		r.topics = make(map[string]struct{}, len(cfg.topics))
		for _, t := range cfg.topics {
			r.topics[t] = struct{}{}
		}
	}
	return r
}

// Add takes the datagram received from sender from. When it completes a
// message, Add returns that message and true; the message's Data is a
// slice of its own. When the datagram is dropped, Add returns why: a
// format error of Parse, ErrUnwantedTopic, ErrTooLarge,
// ErrOverBudget, ErrMismatch, ErrDuplicate or ErrLate, unwrapped, and
// counts it in Stats. Otherwise (a fragment taken, its message still
// incomplete) it returns false and nil.
//
// Add first gives up incomplete messages older than MaxAge, as Expire
// does. It allocates nothing for a datagram it drops, and keeps nothing
// of datagram: the caller may reuse it.
func (r *Reassembler) Add(from netip.AddrPort, datagram []byte) (Message, bool, error) {
	return r.add(r.now(), from, datagram)
}

// add is Add with the clock read by the caller: a Listener reads it once
// for all the datagrams it takes at one go.
func (r *Reassembler) add(now time.Time, from netip.AddrPort, datagram []byte) (Message, bool, error) {
	r.expire(now)
	f, err := Parse(datagram)
	if err != nil {
		r.stats.Dropped.Malformed++
		return Message{}, false, err
	}
	if r.topics != nil {
		if _, ok := r.topics[string(f.Topic)]; !ok {
			r.stats.Dropped.Unwanted++
			return Message{}, false, ErrUnwantedTopic
		}
	}
	if uint64(f.Total) > r.maxMessage {
		r.stats.Dropped.TooLarge++
		return Message{}, false, ErrTooLarge
	}
	k := msgKey{from: from, id: f.ID}
	if p := r.parts[k]; p != nil {
		return r.addTo(p, &f)
	}
	if complete, ok := r.recent.get(k); ok {
		if complete {
			r.stats.Dropped.Duplicate++
			return Message{}, false, ErrDuplicate
		}
		r.stats.Dropped.Late++
		return Message{}, false, ErrLate
	}
	if f.Count == 1 {
		data := make([]byte, len(f.Data))
		copy(data, f.Data)
		r.recent.add(k, true)
		r.stats.Fragments++
		r.stats.Completed++
		return Message{Topic: string(f.Topic), Data: data, From: from}, true, nil
	}
	words := (int64(f.Count) + 63) / 64
	cost := partialOverhead + int64(len(f.Topic)) + int64(f.Total) + 8*words
	if cost > r.budget {
		r.stats.Dropped.TooLarge++
		return Message{}, false, ErrOverBudget
	}
	for r.pending+cost > r.budget {
		r.giveUp(r.oldest, false)
	}
	p := &partial{
		key:   k,
		topic: string(f.Topic),
		count: f.Count,
		total: f.Total,
		size:  f.Size,
		buf:   make([]byte, f.Total),
		have:  make([]uint64, words),
		born:  now,
		cost:  cost,
		older: r.newest,
	}
	if r.newest != nil {
		r.newest.newer = p
	} else {
		r.oldest = p
	}
	r.newest = p
	r.parts[k] = p
	r.pending += cost
	return r.addTo(p, &f)
}

// addTo takes fragment f into p.
func (r *Reassembler) addTo(p *partial, f *Part) (Message, bool, error) {
	if f.Count != p.count || f.Total != p.total || f.Size != p.size || string(f.Topic) != p.topic {
		r.stats.Dropped.Mismatch++
		return Message{}, false, ErrMismatch
	}
	w, bit := f.Index/64, uint64(1)<<(f.Index%64)
	if p.have[w]&bit != 0 {
		r.stats.Dropped.Duplicate++
		return Message{}, false, ErrDuplicate
	}
	p.have[w] |= bit
	p.got++
	copy(p.buf[f.offset():], f.Data)
	r.stats.Fragments++
	if p.got < p.count {
		return Message{}, false, nil
	}
	r.remove(p)
	r.recent.add(p.key, true)
	r.stats.Completed++
	return Message{Topic: p.topic, Data: p.buf, From: p.key.from}, true, nil
}

// Expire gives up the incomplete messages older than MaxAge by the clock,
// and returns how many it gave up. Add does this too; call Expire from
// time to time to free memory when fragments stop arriving.
func (r *Reassembler) Expire() int {
	return r.expire(r.now())
}

func (r *Reassembler) expire(now time.Time) int {
	n := 0
	for r.oldest != nil && now.Sub(r.oldest.born) >= r.maxAge {
		r.giveUp(r.oldest, true)
		n++
	}
	return n
}

// giveUp throws away incomplete message p, for age or for room.
func (r *Reassembler) giveUp(p *partial, expired bool) {
	r.remove(p)
	r.recent.add(p.key, false)
	if expired {
		r.stats.Expired++
		r.stats.Dropped.Expired += uint64(p.got)
	} else {
		r.stats.Evicted++
		r.stats.Dropped.Evicted += uint64(p.got)
	}
}

// remove unlinks p from the incomplete messages.
func (r *Reassembler) remove(p *partial) {
	if p.older != nil {
		p.older.newer = p.newer
	} else {
		r.oldest = p.newer
	}
	if p.newer != nil {
		p.newer.older = p.older
	} else {
		r.newest = p.older
	}
	p.older, p.newer = nil, nil
	delete(r.parts, p.key)
	r.pending -= p.cost
}

// Stats returns the counts so far.
func (r *Reassembler) Stats() Stats {
	s := r.stats
	s.Incomplete = len(r.parts)
	s.BytesPending = r.pending
	return s
}

// recentRing remembers the last RecentMessages finished messages: whether
// each was completed or given up.
type recentRing struct {
	keys     []msgKey
	next     int // where the next key goes once keys is full
	complete map[msgKey]bool
}

func (q *recentRing) get(k msgKey) (complete, ok bool) {
	complete, ok = q.complete[k]
	return complete, ok
}

func (q *recentRing) add(k msgKey, complete bool) {
	if q.complete == nil {
		q.complete = make(map[msgKey]bool)
	}
	if _, ok := q.complete[k]; ok {
		q.complete[k] = complete
		return
	}
	if len(q.keys) < RecentMessages {
		q.keys = append(q.keys, k)
	} else {
		delete(q.complete, q.keys[q.next])
		q.keys[q.next] = k
		q.next = (q.next + 1) % RecentMessages
	}
	q.complete[k] = complete
}
