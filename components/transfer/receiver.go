package transfer

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// ReceiverComponent is the component Receiver returns.
type ReceiverComponent struct {
	*axon.Component
	final string
	cfg   config
	rep   *axon.Reporter

	written, total atomic.Int64
	packets, dups  atomic.Uint64
	tempName       atomic.Pointer[string]
	clock          clock
}

// Receiver returns a component that receives one file sent by a Sender
// and puts it at finalPath, or nowhere. Its "inbox" takes the datagrams
// a udp.PostboxPeer receives; its replies go from "outbox" back to that
// peer, addressed to the sender (ReceiveGraph does this wiring).
//
// On START it creates a temporary file beside finalPath (named
// ".BASE.part-RANDOM"), then writes the chunks to it in order, holding
// those that arrive early (up to its window), and hashes what it writes.
// On END it compares the SHA-256 with the sender's, and only if they
// match syncs the file and renames it to finalPath. On every other end
// (a mismatch, a timeout, a shutdown, a failure) the temporary file is
// removed: nothing is ever left under finalPath but a whole, checked
// file.
//
// Boxes:
//
//	inbox   (in)  udp.Datagram: the sender's packets. Anything else, and
//	              every datagram that is not a packet of the transfer, is
//	              reported on "errors" and ignored; a START of another
//	              transfer is answered with DONE(refused).
//	control (in)  ProducerFinished: the datagrams queued in "inbox" are
//	              taken (they may finish the transfer), then it is as
//	              for ShutdownMicroprocess: an unfinished transfer is
//	              abandoned and its temporary file removed, the message
//	              passed on "signal", and the Receiver ends.
//	outbox  (out) udp.Packet: replies (ACCEPT, ACK, DONE) to the sender.
//	errors  (out) error (an *axon.BoxError around an *Error): each
//	              datagram ignored. Sent without waiting; logged with
//	              log/slog, rate-limited, when the box leads nowhere or is
//	              full.
//	signal  (out) ProducerFinished when the transfer is over and the
//	              sender has been quiet for the Linger; the shutdown
//	              message that stopped the Receiver otherwise.
//
// The Receiver ends without error once the file is in place. It fails
// with an *Error (in an *axon.BoxError) wrapping ErrTimeout when no
// sender starts, or the sender goes quiet, for the Timeout; ErrMismatch
// when the digests differ; and ErrFile when the file cannot be written.
func Receiver(finalPath string, opts ...Option) *ReceiverComponent {
	r := &ReceiverComponent{final: finalPath, cfg: newConfig("Receiver", receiverOptions, opts)}
	r.Component = axon.New(cmp.Or(r.cfg.name, "Receiver"), r.main,
		axon.WithInbox(axon.InboxName, "udp.Datagram: the sender's packets", axon.Capacity(256), axon.Carries[udp.Datagram]()),
		axon.WithOutbox(axon.OutboxName, "udp.Packet: replies to the sender", axon.Carries[udp.Packet]()),
		axon.WithOutbox(ErrorsBox, "*transfer.Error (in an *axon.BoxError): datagrams ignored", axon.Carries[error]()),
	)
	r.rep = axon.NewReporter(r.Component, ErrorsBox)
	if r.cfg.err != nil {
		r.FailOnStart(r.errorf("control", "configure", netip.AddrPort{}, r.cfg.err))
	}
	return r
}

// Progress returns how far the transfer has got: bytes written in order,
// the size announced by START (0 before it), DATA packets received, and
// how many of them were repeats. It may be called at any time.
func (r *ReceiverComponent) Progress() Progress {
	return Progress{Bytes: r.written.Load(), Total: r.total.Load(), Packets: r.packets.Load(), Retransmits: r.dups.Load(),
		Elapsed: r.clock.elapsed()}
}

// TempName returns the temporary file's path while a transfer is under
// way, and "" otherwise.
func (r *ReceiverComponent) TempName() string {
	if p := r.tempName.Load(); p != nil {
		return *p
	}
	return ""
}

func (r *ReceiverComponent) errorf(box, op string, peer netip.AddrPort, err error) *axon.BoxError {
	return boxError(r.Component, box, op, peer, err)
}

// Receiver phases.
const (
	phaseWaiting   = iota // no START yet
	phaseReceiving        // chunks arriving
	phaseFinished         // DONE sent; lingering
)

// recvState is one run of a Receiver.
type recvState struct {
	r      *ReceiverComponent
	out    *axon.Outbox
	phase  int
	id     uint64
	size   uint64
	chunk  uint32
	chunks uint64
	window uint64
	peer   netip.AddrPort

	tmp     *os.File
	tmpName string
	bw      *bufio.Writer
	h       hash.Hash

	next     uint64   // every chunk before next is written
	held     [][]byte // chunks after next that arrived early, by seq%window
	heldTop  uint64   // one past the highest chunk held
	sinceAck int
	ackNow   bool

	lastHeard time.Time
	accepted  time.Time     // when ACCEPT first went out
	rtt       time.Duration // ACCEPT to the first packet after it: about one round trip
	done      Packet        // the DONE sent, once finished
	result    error         // what the Receiver ends with, once finished
}

// ackEvery is how many chunks in order may arrive before an ACK goes out
// even while more are queued.
const ackEvery = 16

func (r *ReceiverComponent) main(ctx context.Context, c *axon.Component) error {
	st := &recvState{r: r, out: c.Out(axon.OutboxName), lastHeard: time.Now()}
	defer st.discard()
	defer r.clock.stop()
	in, ctl := c.Reader(axon.InboxName), c.In(axon.ControlName)
	timer := time.NewTimer(r.cfg.timeout)
	defer timer.Stop()
	lingering := false
	// take acts on one datagram, acknowledging at once when it asks for
	// that (a gap, a repeat, 16 chunks in order).
	take := func(ctx context.Context, m any, now time.Time) error {
		if err := st.handle(ctx, m, now); err != nil {
			return err
		}
		if st.ackNow && st.phase == phaseReceiving {
			return st.sendAck(ctx)
		}
		return nil
	}
	for {
		select {
		case m := <-ctl:
			// ProducerFinished: what was queued before it is taken
			// first; it may finish the transfer.
			drain := func(ctx context.Context, m any) error { return take(ctx, m, time.Now()) }
			if stop, err := c.Control(ctx, m, drain); stop || err != nil {
				return err
			}
		case e := <-in.C():
			// Take this and what else is queued, many datagrams to an
			// element, acknowledging when a message asks for it, and
			// whenever the queue is empty.
			for msgs := in.Open(e); len(msgs) > 0; msgs = in.Next() {
				now := time.Now()
				for _, m := range msgs {
					if err := take(ctx, m, now); err != nil {
						return err
					}
				}
			}
			if st.phase == phaseReceiving && st.sinceAck > 0 {
				if err := st.sendAck(ctx); err != nil {
					return err
				}
			}
			if st.phase == phaseFinished && !lingering {
				if r.cfg.linger == 0 {
					return st.finish(ctx, c)
				}
				lingering = true
				timer.Reset(st.linger())
			}
		case <-timer.C:
			wait := r.cfg.timeout
			if st.phase == phaseFinished {
				wait = st.linger()
			}
			left := wait - time.Since(st.lastHeard)
			if left > 0 {
				timer.Reset(left)
				continue
			}
			if st.phase == phaseFinished {
				return st.finish(ctx, c)
			}
			what := "no sender started a transfer"
			if st.phase == phaseReceiving {
				what = fmt.Sprintf("the sender at %s went quiet with %d of %d chunks written", st.peer, st.next, st.chunks)
			}
			return r.errorf("inbox", "transfer", netip.AddrPort{}, fmt.Errorf("%w: %s in %v", ErrTimeout, what, wait))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// finish ends a Receiver whose transfer is over.
func (st *recvState) finish(ctx context.Context, c *axon.Component) error {
	if st.result != nil {
		return st.result
	}
	return c.Finish(ctx)
}

// discard closes and removes the temporary file, if there still is one.
func (st *recvState) discard() {
	if st.tmp != nil {
		st.tmp.Close()
		os.Remove(st.tmpName)
		st.tmp = nil
	}
	st.r.tempName.Store(nil)
}

// handle acts on one message from "inbox", taken at now.
func (st *recvState) handle(ctx context.Context, m any, now time.Time) error {
	var d udp.Datagram
	switch m := m.(type) {
	case udp.Datagram:
		d = m
	case *udp.Datagram:
		d = *m
	default:
		st.r.rep.Report(st.r.errorf("inbox", "receive", netip.AddrPort{}, fmt.Errorf("%w: %T, want udp.Datagram", ErrBadMessage, m)))
		return nil
	}
	from := d.From
	p, err := Parse(d.Data)
	if err != nil {
		st.r.rep.Report(st.r.errorf("inbox", "parse", from, err))
		return nil
	}
	if st.phase != phaseWaiting && p.ID != st.id {
		if p.Type == TypeStart {
			// Another sender: say no, so that it stops at once.
			st.r.rep.Report(st.r.errorf("inbox", "receive", from, fmt.Errorf("%w: START of transfer %016x refused while busy with %016x", ErrForeign, p.ID, st.id)))
			no := Packet{Type: TypeDone, ID: p.ID, Status: StatusRefused, Text: "busy with another transfer"}
			return st.out.Send(ctx, d.Reply(no.Marshal()))
		}
		st.r.rep.Report(st.r.errorf("inbox", "receive", from, fmt.Errorf("%w: %s of transfer %016x, this is %016x", ErrForeign, p.Type, p.ID, st.id)))
		return nil
	}
	switch p.Type {
	case TypeStart:
		if st.phase == phaseWaiting {
			return st.start(ctx, &p, d.From)
		}
	case TypeData, TypeEnd:
		if st.phase == phaseWaiting {
			st.r.rep.Report(st.r.errorf("inbox", "receive", from, fmt.Errorf("%w: %s of transfer %016x before its START", ErrForeign, p.Type, p.ID)))
			return nil
		}
	default:
		st.r.rep.Report(st.r.errorf("inbox", "receive", from, fmt.Errorf("%w: a receiver receives no %s", ErrForeign, p.Type)))
		return nil
	}
	st.peer, st.lastHeard = d.From, now
	if st.rtt == 0 && p.Type != TypeStart && !st.accepted.IsZero() {
		st.rtt = max(time.Since(st.accepted), time.Nanosecond)
	}
	switch {
	case st.phase == phaseFinished:
		if p.Type == TypeData {
			return nil // late
		}
		return st.reply(ctx, &st.done) // START or END again: the DONE was lost
	case p.Type == TypeStart:
		return st.reply(ctx, &Packet{Type: TypeAccept, ID: st.id, Window: uint32(st.window)})
	case p.Type == TypeData:
		return st.data(ctx, &p, from)
	default:
		return st.end(ctx, &p)
	}
}

// start begins the transfer START describes.
func (st *recvState) start(ctx context.Context, p *Packet, from netip.AddrPort) error {
	st.id, st.size, st.chunk, st.chunks = p.ID, p.Size, p.ChunkSize, p.Chunks
	limit := max(1, uint64(HeldBytes/p.ChunkSize))
	if st.r.cfg.windowSet {
		limit = uint64(st.r.cfg.window)
	}
	st.window = min(uint64(p.Window), limit)
	st.peer, st.lastHeard = from, time.Now()
	st.phase = phaseReceiving
	dir, base := filepath.Split(st.r.final)
	f, err := os.CreateTemp(cmp.Or(dir, "."), "."+base+".part-*")
	if err != nil {
		return st.fail(ctx, "create", err)
	}
	st.tmp, st.tmpName = f, f.Name()
	name := f.Name()
	st.r.tempName.Store(&name)
	st.bw = bufio.NewWriterSize(f, 1<<20)
	st.h = sha256.New()
	st.held = make([][]byte, st.window)
	st.r.total.Store(int64(st.size))
	st.r.clock.start()
	st.accepted = time.Now()
	return st.reply(ctx, &Packet{Type: TypeAccept, ID: st.id, Window: uint32(st.window)})
}

// linger is how long the Receiver stays after DONE, for a sender whose
// DONE was lost to ask again: the Linger option, but at least four round
// trips, since the sender repeats END every two round trips on a slow
// path.
func (st *recvState) linger() time.Duration {
	return max(st.r.cfg.linger, 4*st.rtt)
}

// data takes one chunk.
func (st *recvState) data(ctx context.Context, p *Packet, from netip.AddrPort) error {
	if p.Seq >= st.chunks {
		st.r.rep.Report(st.r.errorf("inbox", "receive", from, fmt.Errorf("%w: DATA chunk %d of a %d-chunk transfer", ErrForeign, p.Seq, st.chunks)))
		return nil
	}
	if want := min(uint64(st.chunk), st.size-p.Seq*uint64(st.chunk)); uint64(len(p.Payload)) != want {
		st.r.rep.Report(st.r.errorf("inbox", "receive", from, fmt.Errorf("%w: DATA chunk %d of %d bytes, want %d", ErrForeign, p.Seq, len(p.Payload), want)))
		return nil
	}
	st.r.packets.Add(1)
	switch {
	case p.Seq < st.next:
		st.r.dups.Add(1)
		st.ackNow = true // the sender may have missed an ACK
	case p.Seq == st.next:
		if err := st.write(ctx, p.Payload); err != nil {
			return err
		}
		for st.next < st.heldTop {
			i := st.next % st.window
			b := st.held[i]
			if b == nil {
				break
			}
			st.held[i] = nil
			if err := st.write(ctx, b); err != nil {
				return err
			}
		}
		if st.sinceAck++; st.sinceAck >= ackEvery {
			st.ackNow = true
		}
	case p.Seq >= st.next+st.window:
		st.ackNow = true // beyond the window: dropped; say where we are
	default:
		i := p.Seq % st.window
		if st.held[i] != nil {
			st.r.dups.Add(1)
		} else {
			st.held[i] = p.Payload
			st.heldTop = max(st.heldTop, p.Seq+1)
		}
		st.ackNow = true // a gap: tell the sender at once
	}
	return nil
}

// write appends the next chunk in order to the file and the hash.
func (st *recvState) write(ctx context.Context, b []byte) error {
	if _, err := st.bw.Write(b); err != nil {
		return st.fail(ctx, "write", err)
	}
	st.h.Write(b)
	st.next++
	st.r.written.Add(int64(len(b)))
	return nil
}

// end acts on END: checks the digest once every chunk is written, and
// puts the file in place or throws it away.
func (st *recvState) end(ctx context.Context, p *Packet) error {
	if st.next < st.chunks {
		st.ackNow = true
		return nil
	}
	if err := st.bw.Flush(); err != nil {
		return st.fail(ctx, "write", err)
	}
	var sum [32]byte
	st.h.Sum(sum[:0])
	st.phase = phaseFinished
	st.r.clock.stop()
	if !bytes.Equal(sum[:], p.Digest[:]) {
		st.discard()
		st.done = Packet{Type: TypeDone, ID: st.id, Status: StatusMismatch,
			Text: fmt.Sprintf("received %x, sent %x", sum[:8], p.Digest[:8])}
		st.result = st.r.errorf("inbox", "transfer", st.peer,
			fmt.Errorf("%w: the SHA-256 of what arrived, %x, is not the sender's, %x; %s not written", ErrMismatch, sum, p.Digest, st.r.final))
		return st.reply(ctx, &st.done)
	}
	// CreateTemp made the file private; a received file is an ordinary
	// one (the umask does not apply to Chmod, so this is what most
	// umasks give).
	_ = st.tmp.Chmod(0o644)
	if err := st.tmp.Sync(); err != nil {
		return st.fail(ctx, "sync", err)
	}
	if err := st.tmp.Close(); err != nil {
		st.tmp = nil
		os.Remove(st.tmpName)
		return st.fail(ctx, "close", err)
	}
	st.tmp = nil
	if err := os.Rename(st.tmpName, st.r.final); err != nil {
		os.Remove(st.tmpName)
		return st.fail(ctx, "rename", err)
	}
	st.r.tempName.Store(nil)
	syncDir(filepath.Dir(st.r.final))
	st.done = Packet{Type: TypeDone, ID: st.id, Status: StatusOK}
	return st.reply(ctx, &st.done)
}

// fail gives up on the transfer because of a file error: the sender is
// told, the temporary file removed, and the error returned.
func (st *recvState) fail(ctx context.Context, op string, err error) error {
	st.discard()
	e := st.r.errorf("file", op, netip.AddrPort{}, fmt.Errorf("%w: %w", ErrFile, err))
	no := Packet{Type: TypeDone, ID: st.id, Status: StatusFailed, Text: truncate(e.Error(), MaxText)}
	if serr := st.reply(ctx, &no); serr != nil {
		return errors.Join(e, serr)
	}
	return e
}

// sendAck tells the sender what has arrived.
func (st *recvState) sendAck(ctx context.Context) error {
	st.ackNow, st.sinceAck = false, 0
	a := Packet{Type: TypeAck, ID: st.id, Next: st.next}
	if st.heldTop > st.next+1 {
		a.SACK = make([]byte, (st.heldTop-st.next-1+7)/8)
		for i := range st.heldTop - st.next - 1 {
			if st.held[(st.next+1+i)%st.window] != nil {
				a.SACK[i/8] |= 1 << (i % 8)
			}
		}
	}
	return st.reply(ctx, &a)
}

func (st *recvState) reply(ctx context.Context, p *Packet) error {
	return st.out.Send(ctx, udp.Packet{To: st.peer, Data: p.Marshal()})
}

// syncDir makes a rename in dir durable, where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
