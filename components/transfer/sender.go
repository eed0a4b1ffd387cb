package transfer

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internal/slab"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// Retransmission timer bounds.
const (
	initialRTO = 200 * time.Millisecond // before the first round trip is measured
	minRTO     = 20 * time.Millisecond
	maxRTO     = 2 * time.Second
	maxCtlRTO  = 100 * time.Millisecond // START and END back off no further (unless the round trip is longer)
	sendBurst  = 32                     // packets sent, as one crossing, before the inbox is looked at again
	burstBytes = 32 << 10               // or bytes: large chunks go to the peer without waiting for the next
)

// Memory the Sender reads and sends through.
const (
	readAhead = 64 << 10 // the most bytes of new chunks read from the file at once
	minAhead  = 4        // chunks, or each is read alone
)

// Progress is how far a transfer has got.
type Progress struct {
	Bytes       int64  // bytes acknowledged (Sender) or written in order (Receiver)
	Total       int64  // the file's size; 0 until known
	Packets     uint64 // DATA packets sent (Sender) or received (Receiver), repeats included
	Retransmits uint64 // DATA packets sent again (Sender) or received twice (Receiver)
	// Elapsed is the time since the transfer began (the Sender started;
	// the Receiver took START) until now, or until it ended.
	Elapsed time.Duration
}

// clock times a transfer for Progress.
type clock struct{ begin, end atomic.Int64 }

func (c *clock) start() { c.begin.Store(time.Now().UnixNano()) }
func (c *clock) stop()  { c.end.CompareAndSwap(0, time.Now().UnixNano()) }
func (c *clock) elapsed() time.Duration {
	b := c.begin.Load()
	if b == 0 {
		return 0
	}
	e := c.end.Load()
	if e == 0 {
		e = time.Now().UnixNano()
	}
	return time.Duration(e - b)
}

// SenderComponent is the component Sender returns.
type SenderComponent struct {
	*axon.Component
	path string
	cfg  config
	rep  *axon.Reporter

	acked, total         atomic.Int64
	packets, retransmits atomic.Uint64
	clock                clock
}

// Sender returns a component that sends the file at path, reliably, as
// datagrams of the protocol described in the package documentation. Its
// "outbox" leads to the network towards the receiver (a udp.SimplePeer
// made with udp.Remote, perhaps through internet/simulate stages), and
// what the network brings back goes to its "inbox" (SendGraph does this
// wiring). The file is read with ReadAt as the chunks are sent, up to 64
// KiB of new chunks at a time, never whole.
//
// Boxes:
//
//	inbox   (in)  the receiver's replies: udp.Datagram or []byte.
//	              Anything that is not a reply of this transfer is
//	              reported on "errors" and ignored.
//	control (in)  ProducerFinished: the replies queued in "inbox" are
//	              taken (one may end the transfer), then it is as for
//	              ShutdownMicroprocess: the transfer is abandoned, the
//	              message passed on "signal", and the Sender ends.
//	outbox  (out) []byte: each datagram to send (START, DATA, END).
//	errors  (out) error (an *axon.BoxError around an *Error): each
//	              datagram ignored (malformed, another transfer's, ...).
//	              Sent without waiting; logged with log/slog,
//	              rate-limited, when the box leads nowhere or is full.
//	signal  (out) ProducerFinished once the receiver has confirmed the
//	              file arrived intact; the shutdown message that stopped
//	              the Sender otherwise.
//
// The Sender ends without error only when the receiver's DONE says the
// file arrived intact. It fails with an *Error (in an *axon.BoxError)
// wrapping ErrMismatch, ErrRefused or ErrRemote when the receiver says
// otherwise, ErrTimeout when no reply moves the transfer on for the
// Timeout, and ErrFile when the file cannot be read (or changes size
// while it is sent).
func Sender(path string, opts ...Option) *SenderComponent {
	s := &SenderComponent{path: path, cfg: newConfig("Sender", senderOptions, opts)}
	s.Component = axon.New(cmp.Or(s.cfg.name, "Sender"), s.main,
		axon.WithInbox(axon.InboxName, "the receiver's replies: udp.Datagram or []byte", axon.Capacity(256)),
		axon.WithOutbox(axon.OutboxName, "[]byte: datagrams to the receiver", axon.Carries[[]byte]()),
		axon.WithOutbox(ErrorsBox, "*transfer.Error (in an *axon.BoxError): datagrams ignored", axon.Carries[error]()),
	)
	s.rep = axon.NewReporter(s.Component, ErrorsBox)
	if s.cfg.err != nil {
		s.FailOnStart(s.errorf("control", "configure", netip.AddrPort{}, s.cfg.err))
	}
	return s
}

// Progress returns how far the transfer has got. It may be called at any
// time, from any goroutine.
func (s *SenderComponent) Progress() Progress {
	return Progress{Bytes: s.acked.Load(), Total: s.total.Load(), Packets: s.packets.Load(), Retransmits: s.retransmits.Load(),
		Elapsed: s.clock.elapsed()}
}

func (s *SenderComponent) errorf(box, op string, peer netip.AddrPort, err error) *axon.BoxError {
	return boxError(s.Component, box, op, peer, err)
}

// Sender phases.
const (
	phaseStart = iota // START sent, waiting for ACCEPT
	phaseSend         // sending chunks
	phaseEnd          // END sent, waiting for DONE
)

// flight is what the Sender knows of one chunk in flight.
type flight struct {
	sentAt time.Time
	sends  uint32
	acked  bool
	queued bool // waiting to be sent again
}

// sendState is one run of a Sender.
type sendState struct {
	s      *SenderComponent
	f      *os.File
	out    *axon.Outbox
	id     uint64
	size   uint64
	chunk  uint32
	chunks uint64
	window uint64

	phase      int
	ctlDue     bool      // START or END is to be sent (again)
	ctlSentAt  time.Time // when it last was
	ctlSends   int
	ctlRTO     time.Duration // START's or END's retransmission timeout
	base, next uint64        // every chunk before base is acknowledged; next is the first never sent
	fl         []flight
	queue      []uint64 // chunks to send again
	h          hash.Hash
	hashed     uint64 // chunks hashed so far, in order

	// New chunks are read from the file many at a time: chunks ahead0 up
	// to ahead0+aheadN are in ahead.
	ahead          []byte
	ahead0, aheadN uint64
	packets        slab.Slab // packets are cut from it, a burst sharing few allocations

	srtt, rttvar time.Duration
	rto          time.Duration
	lastProgress time.Time
	deadline     time.Time // the next timer to look at
	done         bool
}

func (s *SenderComponent) main(ctx context.Context, c *axon.Component) error {
	s.clock.start()
	defer s.clock.stop()
	f, err := os.Open(s.path)
	if err != nil {
		return s.errorf("file", "open", netip.AddrPort{}, fmt.Errorf("%w: %w", ErrFile, err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return s.errorf("file", "stat", netip.AddrPort{}, fmt.Errorf("%w: %w", ErrFile, err))
	}
	if !fi.Mode().IsRegular() {
		return s.errorf("file", "open", netip.AddrPort{}, fmt.Errorf("%w: %s is not a regular file", ErrFile, s.path))
	}
	var idb [8]byte
	_, _ = rand.Read(idb[:])
	st := &sendState{
		s: s, f: f, out: c.Out(axon.OutboxName),
		id: binary.BigEndian.Uint64(idb[:]), size: uint64(fi.Size()), chunk: uint32(s.cfg.chunkSize),
		window: uint64(s.cfg.window), h: sha256.New(), rto: initialRTO, ctlRTO: initialRTO,
		ctlDue: true, lastProgress: time.Now(),
	}
	if !s.cfg.windowSet {
		st.window = min(DefaultWindow, max(16, DefaultWindowBytes/uint64(st.chunk)))
	}
	st.chunks = ChunkCount(st.size, st.chunk)
	s.total.Store(fi.Size())
	return st.run(ctx, c)
}

func (st *sendState) run(ctx context.Context, c *axon.Component) error {
	in, ctl := c.Reader(axon.InboxName), c.In(axon.ControlName)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// Everything waiting first, so that the sends below act on the
		// latest news. Only this loop takes from control, so what it
		// counts is there to take.
		for {
			if len(ctl) > 0 {
				if stop, err := st.control(ctx, c, <-ctl); stop || err != nil {
					return err
				}
				continue
			}
			msgs := in.Next()
			if msgs == nil {
				break
			}
			if err := st.handleAll(msgs); err != nil {
				return err
			}
		}
		if st.done {
			st.s.acked.Store(int64(st.size))
			return c.Finish(ctx)
		}
		if err := st.timers(time.Now()); err != nil {
			return err
		}
		sent, err := st.burst(ctx, c)
		if err != nil {
			return err
		}
		if sent > 0 {
			continue
		}
		timer.Reset(max(time.Until(st.deadline), time.Millisecond))
		select {
		case m := <-ctl:
			if stop, err := st.control(ctx, c, m); stop || err != nil {
				return err
			}
		case e := <-in.C():
			if err := st.handleAll(in.Open(e)); err != nil {
				return err
			}
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// control acts on a message from "control". ProducerFinished means no
// more replies will come: those queued before it are acted on first (one
// may end the transfer, for good or ill), then the transfer is abandoned.
func (st *sendState) control(ctx context.Context, c *axon.Component, m any) (stop bool, err error) {
	return c.Control(ctx, m, func(_ context.Context, msg any) error {
		return st.handle(msg, time.Now())
	})
}

// handleAll acts on messages taken from "inbox" together.
func (st *sendState) handleAll(msgs []any) error {
	now := time.Now()
	for _, m := range msgs {
		if err := st.handle(m, now); err != nil {
			return err
		}
	}
	return nil
}

// burst sends what is due, up to sendBurst packets or burstBytes, and
// returns how many packets it sent. They cross to the peer together, in
// as few hand-offs as its inbox allows.
func (st *sendState) burst(ctx context.Context, c *axon.Component) (sent int, err error) {
	err = c.Batch(ctx, func(ctx context.Context) error {
		for size := 0; sent < sendBurst && size < burstBytes; sent++ {
			pkt, err := st.nextPacket(time.Now())
			if err != nil || pkt == nil {
				return err
			}
			if err := st.out.Send(ctx, pkt); err != nil {
				return err
			}
			size += len(pkt)
		}
		return nil
	})
	return sent, err
}

// timers queues what has waited too long for an acknowledgement, gives up
// after the Timeout without progress, and sets deadline to the next time
// anything is due.
func (st *sendState) timers(now time.Time) error {
	if now.Sub(st.lastProgress) >= st.s.cfg.timeout {
		what := "no reply to START"
		switch st.phase {
		case phaseSend:
			what = fmt.Sprintf("no acknowledgement for %d of %d chunks", st.chunks-st.base, st.chunks)
		case phaseEnd:
			what = "no reply to END"
		}
		return st.s.errorf("inbox", "transfer", netip.AddrPort{}, fmt.Errorf("%w: %s in %v", ErrTimeout, what, st.s.cfg.timeout))
	}
	st.deadline = st.lastProgress.Add(st.s.cfg.timeout)
	if st.phase != phaseSend {
		if !st.ctlDue {
			if due := st.ctlSentAt.Add(st.ctlRTO); !now.Before(due) {
				st.ctlDue = true
				// START and END are small, and the receiver lingers
				// only so long for a lost DONE: their back-off stops
				// early.
				st.ctlRTO = min(2*st.ctlRTO, st.ctlCeiling())
			} else if due.Before(st.deadline) {
				st.deadline = due
			}
		}
		return nil
	}
	timedOut := false
	for seq := st.base; seq < st.next; seq++ {
		f := &st.fl[seq%st.window]
		if f.acked || f.queued {
			continue
		}
		due := f.sentAt.Add(st.rto)
		if !now.Before(due) {
			f.queued = true
			st.queue = append(st.queue, seq)
			timedOut = true
		} else if due.Before(st.deadline) {
			st.deadline = due
		}
	}
	if timedOut {
		st.rto = min(2*st.rto, maxRTO)
	}
	return nil
}

// nextPacket returns the next datagram to send, or nil if nothing is to
// be sent now.
func (st *sendState) nextPacket(now time.Time) ([]byte, error) {
	switch st.phase {
	case phaseStart, phaseEnd:
		if !st.ctlDue {
			return nil, nil
		}
		st.ctlDue, st.ctlSentAt = false, now
		st.ctlSends++
		p := Packet{Type: TypeStart, ID: st.id, Size: st.size, ChunkSize: st.chunk, Chunks: st.chunks, Window: uint32(st.window)}
		if st.phase == phaseEnd {
			if st.ctlSends == 1 {
				if err := st.sameSize(); err != nil {
					return nil, err
				}
			}
			p = Packet{Type: TypeEnd, ID: st.id}
			st.h.Sum(p.Digest[:0])
		}
		return p.Marshal(), nil
	}
	for len(st.queue) > 0 {
		seq := st.queue[0]
		st.queue = st.queue[1:]
		if seq < st.base {
			continue
		}
		f := &st.fl[seq%st.window]
		if !f.queued || f.acked {
			continue
		}
		f.queued = false
		f.sentAt = now
		f.sends++
		st.s.retransmits.Add(1)
		return st.data(seq)
	}
	if st.next < st.chunks && st.next < st.base+st.window {
		seq := st.next
		st.next++
		st.fl[seq%st.window] = flight{sentAt: now, sends: 1}
		return st.data(seq)
	}
	return nil, nil
}

// sameSize checks, before the first END, that the file is still the size
// START announced: one that grew would otherwise arrive cut short and be
// reported as sent.
func (st *sendState) sameSize() error {
	fi, err := st.f.Stat()
	switch {
	case err != nil:
		err = fmt.Errorf("%w: %w", ErrFile, err)
	case fi.Size() != int64(st.size):
		err = fmt.Errorf("%w: %s changed size while it was sent: %d bytes, now %d", ErrFile, st.s.path, st.size, fi.Size())
	}
	if err != nil {
		return st.s.errorf("file", "stat", netip.AddrPort{}, err)
	}
	return nil
}

// data makes chunk seq into a DATA packet, hashing the chunk the first
// time it is read.
func (st *sendState) data(seq uint64) ([]byte, error) {
	off := seq * uint64(st.chunk)
	n := min(uint64(st.chunk), st.size-off)
	pkt := st.packets.Cut(HeaderLen + 8 + int(n))
	p := Packet{Type: TypeData, ID: st.id, Seq: seq}
	p.appendUnsealed(pkt[:0])
	body := pkt[HeaderLen+8:]
	b, err := st.readAhead(seq)
	switch {
	case err != nil:
		return nil, err
	case b != nil:
		copy(body, b)
	default:
		// A large chunk, or one sent again from before those read
		// ahead: read it alone, straight into the packet.
		if err := st.readAt(body, off); err != nil {
			return nil, err
		}
	}
	seal(pkt)
	if seq == st.hashed {
		st.h.Write(body)
		st.hashed++
	}
	st.s.packets.Add(1)
	return pkt, nil
}

// readAhead returns chunk seq from the chunks read ahead, first reading
// from the file the ones after them, up to readAhead bytes, when seq is
// the next: new chunks are sent in order, so one system call reads
// dozens of them. It returns nil for a chunk before those read ahead,
// and for chunks so large that fewer than minAhead fit in readAhead
// bytes: a system call each costs little beside their size, and read
// alone they are copied once less.
func (st *sendState) readAhead(seq uint64) ([]byte, error) {
	size := uint64(st.chunk)
	most := readAhead / size
	if most < minAhead || seq < st.ahead0 || seq > st.ahead0+st.aheadN {
		return nil, nil
	}
	if seq == st.ahead0+st.aheadN {
		k := min(most, st.chunks-seq)
		off := seq * size
		n := min(k*size, st.size-off)
		if uint64(cap(st.ahead)) < n {
			st.ahead = make([]byte, most*size)
		}
		st.ahead = st.ahead[:n]
		st.ahead0, st.aheadN = seq, 0
		if err := st.readAt(st.ahead, off); err != nil {
			return nil, err
		}
		st.aheadN = k
	}
	i := (seq - st.ahead0) * size
	return st.ahead[i:min(i+size, uint64(len(st.ahead)))], nil
}

// readAt fills b from the file at off, failing if the file has become
// shorter than that.
func (st *sendState) readAt(b []byte, off uint64) error {
	got, err := st.f.ReadAt(b, int64(off))
	if got < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: %s is shorter than when the transfer began (%d bytes)", ErrFile, st.s.path, st.size)
		} else {
			err = fmt.Errorf("%w: %w", ErrFile, err)
		}
		return st.s.errorf("file", "read", netip.AddrPort{}, err)
	}
	return nil
}

// handle acts on one message from "inbox".
func (st *sendState) handle(m any, now time.Time) error {
	var b []byte
	var from netip.AddrPort // the zero value for a bare []byte
	switch m := m.(type) {
	case udp.Datagram:
		b, from = m.Data, m.From
	case *udp.Datagram:
		b, from = m.Data, m.From
	case []byte:
		b = m
	default:
		st.s.rep.Report(st.s.errorf("inbox", "receive", netip.AddrPort{}, fmt.Errorf("%w: %T, want udp.Datagram or []byte", ErrBadMessage, m)))
		return nil
	}
	p, err := Parse(b)
	if err != nil {
		st.s.rep.Report(st.s.errorf("inbox", "parse", from, err))
		return nil
	}
	if p.ID != st.id {
		st.s.rep.Report(st.s.errorf("inbox", "receive", from, fmt.Errorf("%w: %s of transfer %016x, this is %016x", ErrForeign, p.Type, p.ID, st.id)))
		return nil
	}
	switch p.Type {
	case TypeAccept:
		if st.phase != phaseStart {
			return nil // a repeat
		}
		if st.ctlSends == 1 {
			st.sample(now.Sub(st.ctlSentAt))
		}
		st.window = min(st.window, uint64(p.Window))
		st.fl = make([]flight, st.window)
		st.phase = phaseSend
		st.progress(now)
		st.endIfAcked()
	case TypeAck:
		if st.phase == phaseSend {
			st.ack(&p, now, from)
		}
	case TypeDone:
		switch p.Status {
		case StatusOK:
			if st.phase != phaseEnd {
				st.s.rep.Report(st.s.errorf("inbox", "receive", from, fmt.Errorf("%w: DONE before END", ErrForeign)))
				return nil
			}
			st.done = true
		case StatusMismatch:
			return st.s.errorf("inbox", "transfer", from, fmt.Errorf("%w: the receiver's SHA-256 of %s differs: %s", ErrMismatch, st.s.path, p.Text))
		case StatusRefused:
			return st.s.errorf("inbox", "transfer", from, fmt.Errorf("%w: %s", ErrRefused, p.Text))
		default:
			return st.s.errorf("inbox", "transfer", from, fmt.Errorf("%w: %s", ErrRemote, p.Text))
		}
	default:
		st.s.rep.Report(st.s.errorf("inbox", "receive", from, fmt.Errorf("%w: a sender receives no %s", ErrForeign, p.Type)))
	}
	return nil
}

// ack acts on an ACK: marks what it acknowledges, measures the round
// trip, and queues again the chunks it shows missing that were sent long
// enough ago to have arrived (fast retransmission).
func (st *sendState) ack(p *Packet, now time.Time, from netip.AddrPort) {
	if p.Next > st.next {
		st.s.rep.Report(st.s.errorf("inbox", "receive", from, fmt.Errorf("%w: ACK of chunk %d, only %d sent", ErrForeign, p.Next, st.next)))
		return
	}
	if p.Next < st.base {
		return // older than what we know
	}
	progressed := false
	var rtt time.Duration = -1
	mark := func(seq uint64) {
		f := &st.fl[seq%st.window]
		if f.acked {
			return
		}
		f.acked, progressed = true, true
		if f.sends == 1 && !f.queued {
			rtt = now.Sub(f.sentAt)
		}
		f.queued = false
	}
	for seq := st.base; seq < p.Next; seq++ {
		mark(seq)
	}
	st.base = p.Next
	hi := st.base
	for i := uint64(0); i < uint64(len(p.SACK))*8; i++ {
		seq := p.Next + 1 + i
		if seq >= st.next {
			break
		}
		if sacked(p.SACK, i) {
			mark(seq)
			hi = seq + 1
		}
	}
	if rtt >= 0 {
		st.sample(rtt)
	}
	if progressed {
		st.progress(now)
	}
	// Chunks below the highest one held that are still missing were lost
	// (or are late): send again those not sent within about a round trip.
	wait := st.srtt + st.srtt/4
	if st.srtt == 0 {
		wait = st.rto / 2
	}
	for seq := st.base; seq < hi; seq++ {
		f := &st.fl[seq%st.window]
		if !f.acked && !f.queued && now.Sub(f.sentAt) > wait {
			f.queued = true
			st.queue = append(st.queue, seq)
		}
	}
	st.s.acked.Store(int64(min(st.base*uint64(st.chunk), st.size)))
	st.endIfAcked()
}

// endIfAcked moves to sending END once every chunk is acknowledged.
func (st *sendState) endIfAcked() {
	if st.phase == phaseSend && st.base == st.chunks {
		// END starts from the data's timeout, but never above the
		// ceiling: the data's may have backed off to seconds, longer
		// than the Receiver lingers for a lost DONE.
		st.phase, st.ctlDue, st.ctlSends, st.ctlRTO = phaseEnd, true, 0, min(st.rto, st.ctlCeiling())
		st.queue = nil
	}
}

// ctlCeiling is as far as START's and END's timeout backs off: 100 ms, or
// two round trips on a slower path.
func (st *sendState) ctlCeiling() time.Duration {
	return max(maxCtlRTO, 2*st.srtt)
}

// progress notes that the transfer moved on: the give-up clock restarts
// and the timer's back-off ends.
func (st *sendState) progress(now time.Time) {
	st.lastProgress = now
	if st.srtt > 0 {
		st.rto = clampRTO(st.srtt + max(4*st.rttvar, time.Millisecond))
	}
}

// sample feeds one round-trip measurement to the estimator (RFC 6298).
func (st *sendState) sample(r time.Duration) {
	if st.srtt == 0 {
		st.srtt, st.rttvar = r, r/2
	} else {
		d := st.srtt - r
		if d < 0 {
			d = -d
		}
		st.rttvar = (3*st.rttvar + d) / 4
		st.srtt = (7*st.srtt + r) / 8
	}
	st.rto = clampRTO(st.srtt + max(4*st.rttvar, time.Millisecond))
}

func clampRTO(d time.Duration) time.Duration { return min(max(d, minRTO), maxRTO) }
