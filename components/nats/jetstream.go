package nats

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kamaelia-go/kamaelia/axon"
)

// The pieces below are what a durable (JetStream) mode needs on both
// sides, whoever uses them: a publisher that gives every message an id
// and keeps it until the server has acknowledged it, and a reader that
// hands on what a consumer delivers, a run at a time, each message once.

// Defaults for JetStream publishing and consuming.
const (
	// DefaultAckWindow is how many published messages an AckedPublisher
	// lets wait for the server's acknowledgement before it waits itself.
	DefaultAckWindow = 512
	// DefaultAckTimeout is how long an AckedPublisher waits for the
	// acknowledgement of one message before publishing it again.
	DefaultAckTimeout = 5 * time.Second
	// DefaultRetryWait is how long an AckedPublisher waits between
	// attempts to publish messages the server did not acknowledge, and a
	// stream or consumer is set up again after a failure.
	DefaultRetryWait = 100 * time.Millisecond
	// DefaultSeen is how many message ids a StreamReader remembers to
	// recognise redeliveries by.
	DefaultSeen = 1 << 16
	// DefaultResync is how long a StreamReader that has set its consumer
	// back waits for the first delivery after it, discarding older ones,
	// before it sets it back again.
	DefaultResync = 2 * time.Second
)

// Errors of the durable mode, for errors.Is.
var (
	// ErrStream: the stream or the consumer could not be set up.
	ErrStream = errors.New("jetstream stream or consumer unavailable")
	// ErrStopped: publishing or reading was given up because its stop
	// channel was closed while messages were not yet acknowledged.
	ErrStopped = errors.New("stopped with messages not acknowledged")
)

// JetStreamOptions returns nats.go options for a connection used in the
// durable mode, appended after DefaultOptions: no reconnect buffer, so
// that a message published while the connection is down fails at once
// and is published again, in order, by the AckedPublisher that had it,
// rather than being sent after the reconnect ahead of earlier messages
// whose acknowledgements were lost with the old connection.
func JetStreamOptions() []natsgo.Option {
	return []natsgo.Option{natsgo.ReconnectBufSize(-1)}
}

// EnsureStream returns the stream called name that keeps subject,
// creating it if there is none: file storage, and interest retention (a
// message is kept until every consumer there was when it arrived has
// acknowledged it), with the server's window for recognising repeated
// message ids (two minutes). While the server cannot be reached it tries
// again, as Retry does (logging each failure to log at debug level); an
// answer refusing the stream fails at once with an error wrapping
// ErrStream.
func EnsureStream(ctx context.Context, log *slog.Logger, stop <-chan struct{}, js jetstream.JetStream, name, subject string) (jetstream.Stream, error) {
	var st jetstream.Stream
	err := Retry(ctx, log, stop, func() error {
		var err error
		st, err = createStream(ctx, js, name, subject)
		return err
	})
	return st, err
}

// createStream is one attempt of EnsureStream.
func createStream(ctx context.Context, js jetstream.JetStream, name, subject string) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, name)
	if err == nil {
		return st, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("%w: stream %s: %w", ErrStream, name, err)
	}
	st, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      name,
		Subjects:  []string{subject},
		Storage:   jetstream.FileStorage,
		Retention: jetstream.InterestPolicy,
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		st, err = js.Stream(ctx, name) // made by another process meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("%w: stream %s: %w", ErrStream, name, err)
	}
	return st, nil
}

// Permanent reports whether err is the server refusing a JetStream
// request (nothing answers JetStream requests: it is not enabled; or it
// answers no), rather than the request not reaching it or JetStream being
// briefly unavailable, which are worth trying again.
func Permanent(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code != 503 && apiErr.Code != 408
	}
	return errors.Is(err, natsgo.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount)
}

// Retry calls try until it succeeds or fails with a Permanent error,
// every DefaultRetryWait, while the server cannot be reached, logging
// each failure to log (a graph's logger) at debug level. It gives up with
// ctx's error when ctx ends, and with ErrStopped when stop is closed.
func Retry(ctx context.Context, log *slog.Logger, stop <-chan struct{}, try func() error) error {
	log = cmp.Or(log, slog.Default())
	for {
		err := try()
		if err == nil || Permanent(err) {
			return err
		}
		log.Debug("nats: jetstream not ready, trying again", "error", err)
		if err := pause(ctx, stop, DefaultRetryWait); err != nil {
			return err
		}
	}
}

// pause waits for d, failing with ctx's error if it ends first and with
// ErrStopped if stop is closed.
func pause(ctx context.Context, stop <-chan struct{}, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-stop:
		return ErrStopped
	}
}

// AckedPublisher publishes messages to a JetStream stream and does not let
// go of any until the server has acknowledged storing it. Each message
// carries a Nats-Msg-Id of its own (the publisher's id, a dot and a
// sequence number), so that one published again after its
// acknowledgement was lost is stored once (within the stream's
// duplicate window). At most a window of messages waits for
// acknowledgements: beyond that Publish waits, so a slow or absent
// server slows the caller down instead of losing messages or queueing
// without bound.
//
// Messages whose acknowledgement fails (the connection dropped, the ack
// timed out, the server refused) are published again, in the order they
// were first published, once those published before the failure have
// been answered, and again until they are acknowledged. Messages are
// stored in the order published unless the server refuses one and
// accepts the next (on one connection it stores in order what it
// receives, so a failure is normally of every message after a point).
//
// An AckedPublisher is used by one goroutine at a time. Its connection
// should have JetStreamOptions.
type AckedPublisher struct {
	nc        *natsgo.Conn
	js        jetstream.JetStream
	subject   string
	id        string
	seq       uint64
	window    int
	retryWait time.Duration
	onRetry   func(n int)
	log       *slog.Logger

	pending []pendingMsg // pending[head:] wait for acknowledgements, oldest first
	head    int
	lost    chan natsgo.Status // the connection went to reconnecting
}

type pendingMsg struct {
	msg *natsgo.Msg
	fut jetstream.PubAckFuture // nil: not published
}

// AckedPublisherConfig sets up an AckedPublisher; zero fields take the
// defaults.
type AckedPublisherConfig struct {
	// ID starts every message id; it must be unique among the stream's
	// publishers (a UUID, say).
	ID string
	// Window is how many messages may wait for acknowledgements
	// (DefaultAckWindow).
	Window int
	// AckTimeout bounds the wait for one acknowledgement
	// (DefaultAckTimeout).
	AckTimeout time.Duration
	// RetryWait is the pause before publishing again what failed
	// (DefaultRetryWait).
	RetryWait time.Duration
	// OnRetry, if not nil, is told each time n messages are about to be
	// published again.
	OnRetry func(n int)
	// Logger is told, at debug level, of acknowledgements that failed
	// (slog.Default() if nil): give the component's, c.Logger().
	Logger *slog.Logger
}

// NewAckedPublisher returns a publisher to subject on nc, which must be
// bound to a stream. Close it when done with it.
func NewAckedPublisher(nc *natsgo.Conn, subject string, cfg AckedPublisherConfig) (*AckedPublisher, error) {
	cfg.Window = max(cfg.Window, 0)
	if cfg.Window == 0 {
		cfg.Window = DefaultAckWindow
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = DefaultRetryWait
	}
	switch {
	case cfg.ID == "":
		return nil, fmt.Errorf("%w: AckedPublisher needs an id", ErrConfig)
	case nc == nil:
		return nil, fmt.Errorf("%w: AckedPublisher needs a connection", ErrConfig)
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(cfg.Window),
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &AckedPublisher{
		nc: nc, js: js, subject: subject, id: cfg.ID + ".", window: cfg.Window,
		retryWait: cfg.RetryWait, onRetry: cfg.OnRetry, log: cmp.Or(cfg.Logger, slog.Default()),
		pending: make([]pendingMsg, 0, cfg.Window),
		lost:    nc.StatusChanged(natsgo.RECONNECTING),
	}, nil
}

// Pending returns how many messages are waiting for acknowledgements.
func (p *AckedPublisher) Pending() int { return len(p.pending) - p.head }

// Publish publishes data (which it keeps, to publish again if need be:
// the caller must not change it) as the next message. It waits while
// the window is full, until the oldest message is acknowledged, or
// published again and acknowledged; it gives up with ctx's error when
// ctx ends, and with ErrStopped when stop is closed. It fails at once
// with ErrClosed once the connection is closed, and with ErrPublish for
// a message that can never be published (larger than the server takes),
// which is dropped.
func (p *AckedPublisher) Publish(ctx context.Context, data []byte, stop <-chan struct{}) error {
	if p.connectionLost() && p.Pending() > 0 {
		// The connection has been lost since the messages waiting were
		// published: their acknowledgements fail, and they must be
		// published again before this one.
		if err := p.settle(ctx, stop, p.Pending()); err != nil {
			return err
		}
	}
	if p.Pending() >= p.window {
		if err := p.settle(ctx, stop, 1); err != nil {
			return err
		}
	}
	if p.head > 0 && len(p.pending) == cap(p.pending) {
		n := copy(p.pending, p.pending[p.head:])
		clear(p.pending[n:])
		p.pending, p.head = p.pending[:n], 0
	}
	p.seq++
	m := &natsgo.Msg{
		Subject: p.subject,
		Data:    data,
		Header:  natsgo.Header{jetstream.MsgIDHeader: []string{p.id + strconv.FormatUint(p.seq, 10)}},
	}
	fut, err := p.js.PublishMsgAsync(m)
	switch {
	case errors.Is(err, natsgo.ErrConnectionClosed):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.Is(err, natsgo.ErrMaxPayload), errors.Is(err, natsgo.ErrBadSubject):
		// Never to be published: the caller reports it.
		return fmt.Errorf("%w: %w", ErrPublish, err)
	}
	p.pending = append(p.pending, pendingMsg{msg: m, fut: fut}) // fut is nil on error: published again
	return nil
}

// PublishValue publishes msg as Publish does data, its payload made by
// Payload with codec (an error wraps ErrEncode or ErrBadMessage, and msg
// is not published). A []byte without a codec is copied, since it is
// kept until stored and its sender may reuse it.
func (p *AckedPublisher) PublishValue(ctx context.Context, msg any, codec Codec, stop <-chan struct{}) error {
	data, err := Payload(msg, codec)
	if err != nil {
		return err
	}
	if b, ok := msg.([]byte); ok && codec == nil {
		data = bytes.Clone(b)
	}
	return p.Publish(ctx, data, stop)
}

// Oldest returns the channels on which the answer about the oldest
// message waiting for an acknowledgement comes: the acknowledgement, or
// an error (at once, if the oldest could not be sent). Both are nil when
// no message waits. Give what comes to Answered. With them a caller can
// wait for input and answers at once, so that a failure is seen to even
// while it has nothing more to publish.
func (p *AckedPublisher) Oldest() (<-chan *jetstream.PubAck, <-chan error) {
	if p.Pending() == 0 {
		return nil, nil
	}
	f := p.pending[p.head].fut
	if f == nil {
		failed := make(chan error, 1)
		failed <- natsgo.ErrDisconnected
		return nil, failed
	}
	return f.Ok(), f.Err()
}

// Answered takes what came on a channel from Oldest (err nil: the
// acknowledgement) and the answers already there for the messages after
// it, without waiting for more unless one failed: then it publishes
// again what failed, waiting as Flush does.
func (p *AckedPublisher) Answered(ctx context.Context, stop <-chan struct{}, err error) error {
	if err != nil {
		p.log.Debug("nats: publish not acknowledged", "subject", p.subject, "error", err)
		p.pending[p.head].fut = nil
		return p.settle(ctx, stop, p.Pending())
	}
	p.pop()
	for p.Pending() > 0 {
		f := p.pending[p.head].fut
		if f == nil {
			return p.settle(ctx, stop, p.Pending())
		}
		select {
		case <-f.Ok():
			p.pop()
		case err := <-f.Err():
			return p.Answered(ctx, stop, err)
		default:
			return nil
		}
	}
	return nil
}

// pop lets go of the oldest message, acknowledged.
func (p *AckedPublisher) pop() {
	p.pending[p.head] = pendingMsg{}
	if p.head++; p.head == len(p.pending) {
		p.pending, p.head = p.pending[:0], 0
	}
}

// Flush waits until every message published has been acknowledged,
// publishing again what needs to be, or ctx ends or stop is closed.
func (p *AckedPublisher) Flush(ctx context.Context, stop <-chan struct{}) error {
	return p.settle(ctx, stop, p.Pending())
}

// connectionLost reports whether the connection has gone to reconnecting
// since it was last asked: nats.go says so before it reconnects, so no
// message published after the reconnect can be stored ahead of one
// whose acknowledgement the old connection lost without it being known.
func (p *AckedPublisher) connectionLost() bool {
	lost := false
	for {
		select {
		case <-p.lost:
			lost = true
		default:
			return lost
		}
	}
}

// Close lets go of what the publisher holds on its connection. Messages
// still waiting for acknowledgements are not published again.
func (p *AckedPublisher) Close() { p.nc.RemoveStatusListener(p.lost) }

// settle waits until at least n of the oldest pending messages have been
// acknowledged. When one fails, it waits for the answers to all those
// pending and publishes again those not acknowledged, in order, and so
// on until none fails.
func (p *AckedPublisher) settle(ctx context.Context, stop <-chan struct{}, n int) error {
	for n > 0 && p.Pending() > 0 {
		failed, err := p.await(ctx, stop, p.pending[p.head])
		if err != nil {
			return err
		}
		if !failed {
			p.pop()
			n--
			continue
		}
		p.pending[p.head].fut = nil // its answer has been taken
		if err := p.republish(ctx, stop); err != nil {
			return err
		}
		n = p.Pending() // what is published again counts too
	}
	return nil
}

// await waits for e's acknowledgement: failed is true if it did not come.
func (p *AckedPublisher) await(ctx context.Context, stop <-chan struct{}, e pendingMsg) (failed bool, err error) {
	if e.fut == nil {
		return true, nil
	}
	select {
	case <-e.fut.Ok():
		return false, nil
	case err := <-e.fut.Err():
		p.log.Debug("nats: publish not acknowledged", "subject", p.subject, "error", err)
		return true, nil
	case <-ctx.Done():
		return false, context.Cause(ctx)
	case <-stop:
		return false, fmt.Errorf("%w: %d messages", ErrStopped, p.Pending())
	}
}

// republish waits for the answers to all pending messages, then
// publishes again, in order, those not acknowledged, and so on until all
// of those have been sent again. settle awaits their acknowledgements.
func (p *AckedPublisher) republish(ctx context.Context, stop <-chan struct{}) error {
	for {
		if err := p.keepFailed(ctx, stop); err != nil {
			return err
		}
		if p.onRetry != nil {
			p.onRetry(p.Pending())
		}
		if err := pause(ctx, stop, p.retryWait); err != nil {
			if errors.Is(err, ErrStopped) {
				return fmt.Errorf("%w: %d messages", ErrStopped, p.Pending())
			}
			return err
		}
		p.connectionLost() // what was published before is being published again
		sent := true
		for i := p.head; i < len(p.pending) && sent; i++ {
			fut, err := p.js.PublishMsgAsync(p.pending[i].msg)
			if errors.Is(err, natsgo.ErrConnectionClosed) {
				return fmt.Errorf("%w: %w", ErrClosed, err)
			}
			// On another error (not connected), the rest stay unsent:
			// keepFailed answers what was sent, then they all go again.
			p.pending[i].fut, sent = fut, err == nil
		}
		if sent {
			return nil
		}
	}
}

// keepFailed waits for the answers to all pending messages and keeps,
// in order, those not acknowledged.
func (p *AckedPublisher) keepFailed(ctx context.Context, stop <-chan struct{}) error {
	kept := p.pending[:0]
	for _, e := range p.pending[p.head:] {
		failed, err := p.await(ctx, stop, e)
		if err != nil {
			return err
		}
		if failed {
			kept = append(kept, pendingMsg{msg: e.msg})
		}
	}
	clear(p.pending[len(kept):])
	p.pending, p.head = kept, 0
	return nil
}

// Seen remembers the last n message ids it was given, to recognise a
// message delivered again. The zero value is not ready: use NewSeen.
type Seen struct {
	ids  map[string]struct{}
	ring []string
	next int
}

// NewSeen returns a Seen that remembers n ids (DefaultSeen if n < 1).
func NewSeen(n int) *Seen {
	if n < 1 {
		n = DefaultSeen
	}
	return &Seen{ids: make(map[string]struct{}, n), ring: make([]string, n)}
}

// Add records id and reports whether it is new: false means a message of
// that id was added before (among the last n).
func (s *Seen) Add(id string) bool {
	if _, ok := s.ids[id]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.ring[s.next] = id
	s.ids[id] = struct{}{}
	s.next = (s.next + 1) % len(s.ring)
	return true
}

// MsgID returns what identifies m for Seen: its Nats-Msg-Id, or, for a
// message published without one, its stream sequence number.
func MsgID(m jetstream.Msg) string {
	h := m.Headers()
	if v := h.Get(jetstream.MsgIDHeader); v != "" {
		return v
	}
	if md, err := m.Metadata(); err == nil {
		return "#" + strconv.FormatUint(md.Sequence.Stream, 10)
	}
	return ""
}

// StreamReader takes what a JetStream consumer delivers and hands it on a
// run at a time, leaving out messages delivered again that it has handed
// on already. Its consumer must acknowledge with AckAll: acknowledging
// the last message of a run (Done) acknowledges the run. At most Buffer
// messages wait in it, besides what nats.go holds for the consumer
// (PullMaxMessages, the same number) and what the consumer lets be
// unacknowledged (MaxAckPending), which bounds both.
//
// Since acknowledging a message acknowledges every one delivered before
// it, a StreamReader checks that it gets every delivery: each carries the
// consumer's sequence number, one more than the last. A server that goes
// away can count as delivered messages it never wrote out; when a number
// is missing, the reader hands on nothing from there, acknowledges
// nothing more, and sets the consumer back to just after the last message
// acknowledged (Resync), which the server then delivers again, in order,
// numbered from 1.
type StreamReader struct {
	nc       *natsgo.Conn
	js       jetstream.JetStream
	stream   string
	consumer string
	log      *slog.Logger
	cc       jetstream.ConsumeContext
	msgs     chan jetstream.Msg
	stop     chan struct{}
	seen     *Seen
	run      []jetstream.Msg // of the last run, those to hand on
	vals     []any           // what Run returned for them
	last     jetstream.Msg   // the last message of the last run, if not acknowledged
	acked    jetstream.Msg   // the last message acknowledged

	// next is the consumer sequence number the next delivery should
	// have (0: not known). When one is missing, the reader discards
	// what comes (behind) until the consumer has been set back (resetAt
	// not zero) and its first delivery since has come.
	next    uint64
	behind  bool
	resetAt time.Time
	resyncs int
}

// ReadStream starts reading cons, on nc, keeping up to buffer messages (at
// least 1) and remembering the last DefaultSeen ids. Errors nats.go
// reports while consuming (heartbeats missed during an outage, say) go
// to onErr if it is not nil; log (slog.Default() if nil) is told, at
// debug level, of what Stop could not confirm, and at info level when
// deliveries were missed and the consumer set back. cons's cached info
// (as the call that made or looked it up returned it) says what consumer
// sequence number the first delivery should have: if it is out of date,
// the reader sets the consumer back once, needlessly but harmlessly. If
// it counts deliveries not yet acknowledged, the reader sets the consumer
// back before it acknowledges anything: some may never have reached the
// consumer's last reader (a server counts as delivered what it had queued
// for a subscription that went away), and an acknowledgement would take
// them with it.
func ReadStream(nc *natsgo.Conn, log *slog.Logger, cons jetstream.Consumer, buffer int, onErr func(error)) (*StreamReader, error) {
	buffer = max(buffer, 1)
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStream, err)
	}
	r := &StreamReader{
		nc: nc, js: js, log: cmp.Or(log, slog.Default()),
		msgs: make(chan jetstream.Msg, buffer), stop: make(chan struct{}), seen: NewSeen(0),
	}
	if ci := cons.CachedInfo(); ci != nil {
		r.stream, r.consumer = ci.Stream, ci.Name
		r.next = ci.Delivered.Consumer + 1
		if ci.NumAckPending > 0 {
			// Delivered before this reader, and not acknowledged: given
			// back by an earlier reader, or lost on their way to it as it
			// stopped (the server counts what it had queued for a
			// subscription that was going away). Acknowledging anything
			// now would acknowledge those too: set the consumer back first.
			r.behind = true
		}
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case r.msgs <- m:
		case <-r.stop: // only if Stop could not take it
		}
	}, jetstream.PullMaxMessages(buffer), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if onErr != nil {
			onErr(err)
		}
	}))
	if err != nil {
		return nil, fmt.Errorf("%w: consume: %w", ErrStream, err)
	}
	r.cc = cc
	return r, nil
}

// C returns the channel messages arrive on: receive the first of a run
// from it and give it to Run.
func (r *StreamReader) C() <-chan jetstream.Msg { return r.msgs }

// Run takes first and the messages waiting after it, up to limit in all,
// and returns what to hand on: their payloads, decoded by codec if it is
// not nil, leaving out messages handed on before (by id, see MsgID) and
// payloads codec cannot decode, which are given to bad. It may be empty.
// The slice is reused by the next Run; call Done once it is handed on.
//
// A run ends before a delivery that does not follow the one before it
// (see StreamReader): that one and those after it are discarded until
// the consumer has been set back (Resync) and delivers again.
func (r *StreamReader) Run(first jetstream.Msg, limit int, codec Codec, bad func(error)) []any {
	clear(r.run)
	clear(r.vals)
	r.run, r.vals = r.run[:0], r.vals[:0]
	r.last = nil
	m := first
	for n := 0; n < limit; n++ {
		if n > 0 {
			select {
			case m = <-r.msgs:
			default:
				return r.vals
			}
		}
		if !r.inOrder(m) {
			if r.behind && r.resetAt.IsZero() {
				return r.vals // to acknowledge before setting the consumer back
			}
			continue
		}
		r.last = m
		r.keep(m, codec, bad)
	}
	return r.vals
}

// inOrder reports whether m is the delivery expected next. If it is not,
// the reader is behind: it discards deliveries until the first one after
// the consumer has been set back.
func (r *StreamReader) inOrder(m jetstream.Msg) bool {
	md, err := m.Metadata()
	if err != nil {
		return true // not from a consumer: nothing to check
	}
	seq := md.Sequence.Consumer
	switch {
	case r.behind:
		if r.resetAt.IsZero() || seq != 1 {
			if !r.resetAt.IsZero() && time.Since(r.resetAt) > DefaultResync {
				r.resetAt = time.Time{} // delivered since, and missed: again
			}
			return false
		}
		r.behind = false
	case r.next != 0 && seq != r.next:
		r.log.Info("nats: deliveries missed, reading again from the last acknowledged",
			"stream", r.stream, "consumer", r.consumer, "expected", r.next, "delivered", seq)
		r.behind, r.resetAt = true, time.Time{}
		return false
	}
	r.next = seq + 1
	return true
}

// Behind reports whether the reader has missed deliveries and must set
// its consumer back (Resync) to get them.
func (r *StreamReader) Behind() bool { return r.behind && r.resetAt.IsZero() }

// Resyncs returns how many times the reader has set its consumer back.
func (r *StreamReader) Resyncs() int { return r.resyncs }

// Resync sets the consumer back to deliver again, at once and in order,
// every message after the last one acknowledged (the server's
// ack floor), if the reader is Behind: the deliveries it missed and those
// it has discarded since. Call it after Done, so that what was handed on
// is acknowledged first. It fails, with an error wrapping ErrStream, if
// the server does not answer or refuses; call it again later.
func (r *StreamReader) Resync(ctx context.Context) error {
	if !r.Behind() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultFlushTimeout)
	defer cancel()
	// So that the consumer is set back to just after what was handed on.
	r.confirmAcked(ctx)
	res, err := r.js.ResetConsumer(ctx, r.stream, r.consumer)
	if err != nil {
		return fmt.Errorf("%w: setting consumer %s back: %w", ErrStream, r.consumer, err)
	}
	r.resetAt = time.Now()
	r.resyncs++
	r.log.Info("nats: consumer set back to read again what was missed",
		"stream", r.stream, "consumer", r.consumer, "from", res.ResetSeq)
	return nil
}

// confirmAcked sends the last acknowledgement again, as a request: the
// server answers once it has applied it and every one before (it takes
// them from a queue of the consumer's own, after it has answered the
// connection's flush), so that the consumer's ack floor is where this
// reader left it.
func (r *StreamReader) confirmAcked(ctx context.Context) {
	if r.acked == nil {
		return
	}
	if _, err := r.nc.RequestWithContext(ctx, r.acked.Reply(), []byte("+ACK")); err != nil {
		r.log.Debug("nats: acknowledgements not confirmed", "stream", r.stream, "consumer", r.consumer, "error", err)
	}
}

func (r *StreamReader) keep(m jetstream.Msg, codec Codec, bad func(error)) {
	if !r.seen.Add(MsgID(m)) {
		return
	}
	var v any = m.Data()
	if codec != nil {
		var err error
		if v, err = codec.Decode(m.Data()); err != nil {
			if bad != nil {
				bad(fmt.Errorf("%w: %w", ErrDecode, err))
			}
			return
		}
	}
	r.run = append(r.run, m)
	r.vals = append(r.vals, v)
}

// Done acknowledges the first n values of the last run, those handed on
// (all of them with what was left out, if n is all: the consumer must
// acknowledge with AckAll). What is not acknowledged is given back by
// Stop.
func (r *StreamReader) Done(n int) error {
	if r.last == nil {
		return nil
	}
	var err error
	switch {
	case n >= len(r.vals):
		err = r.last.Ack()
		r.acked, r.last = r.last, nil
		return err
	case n > 0:
		err = r.run[n-1].Ack()
		r.acked = r.run[n-1]
	}
	r.run = r.run[n:]
	r.vals = r.vals[n:]
	return err
}

// Deliver hands on what r reads, a run (up to limit) at a time, until
// told to stop: it sends each run on out, one of c's outboxes, in one
// Batch, and acknowledges the run once Batch has returned, that is once
// every message is in the next component's inbox (only what was sent,
// if sending failed part-way). Payloads are decoded with codec if it is
// not nil, those it cannot decode given to bad. Deliver returns the
// message when a ProducerFinished or ShutdownMicroprocess arrives on c's
// "control" (other control messages are logged and ignored), nil when
// stop is closed, and the error when sending fails or ctx ends. The
// caller then stops r. When deliveries were missed it sets the consumer
// back (Resync), trying again every DefaultRetryWait while that fails.
func (r *StreamReader) Deliver(ctx context.Context, c *axon.Component, out *axon.Outbox, limit int, codec Codec, bad func(error), stop <-chan struct{}) (any, error) {
	ctl := c.In(axon.ControlName)
	var retry <-chan time.Time
	failed := false // to warn once of failures to set the consumer back
	resync := func() {
		retry = nil
		err := r.Resync(ctx)
		switch {
		case err == nil:
			failed = false
			return
		case !failed:
			c.Logger().Warn("nats: deliveries missed, and the consumer could not be set back (it needs nats-server 2.14 or later): trying again, holding back what comes after",
				"component", c.String(), "error", err)
		default:
			c.Logger().Debug("nats: consumer not set back", "component", c.String(), "error", err)
		}
		failed = true
		retry = time.After(DefaultRetryWait)
	}
	for {
		select {
		case m := <-r.C():
			msgs := r.Run(m, limit, codec, bad)
			before := out.Sent()
			var err error
			if len(msgs) > 0 {
				err = out.SendAll(ctx, msgs)
			}
			if aerr := r.Done(int(out.Sent() - before)); aerr != nil {
				c.Logger().Debug("nats: acknowledgement not sent", "component", c.String(), "error", aerr)
			}
			if err != nil {
				return nil, err
			}
			if r.Behind() && retry == nil {
				resync()
			}
		case <-retry:
			resync()
		case msg := <-ctl:
			if axon.IsProducerFinished(msg) || axon.IsShutdownMicroprocess(msg) {
				return msg, nil
			}
			_, _ = c.Control(ctx, msg, nil) // logs and ignores it
		case <-stop:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Stop stops reading: what nats.go and the reader hold, and what was
// taken with Run and not acknowledged, is not handed on, and is given
// back to the server (Nak), in order, so that it delivers it again to
// the consumer's next reader at once, before newer messages. It waits
// until the consumer has stopped and the server has applied the
// acknowledgements and taken what was given back (up to
// DefaultFlushTimeout). A reader that had missed
// deliveries sets the consumer back instead (Resync), which gives back
// everything not acknowledged.
func (r *StreamReader) Stop() {
	select {
	case <-r.stop:
		return
	default:
	}
	defer close(r.stop)
	var back []jetstream.Msg
	if r.last != nil { // a run not handed on, or not all of it
		back = append(back, r.run...)
		r.last = nil
	}
	r.cc.Drain() // what nats.go holds still goes through the handler
	for done := false; !done; {
		select {
		case m := <-r.msgs:
			back = append(back, m)
		case <-r.cc.Closed():
			for more := true; more; {
				select {
				case m := <-r.msgs:
					back = append(back, m)
				default:
					more = false
				}
			}
			done = true
		}
	}
	if r.behind {
		r.resetAt = time.Time{}
		if err := r.Resync(context.Background()); err != nil {
			r.log.Warn("nats: deliveries missed, and the consumer could not be set back: they come again after its ack wait", "error", err)
		}
		return
	}
	if len(back) == 0 {
		// Nothing to give back: make sure the acknowledgements are
		// applied, or a next reader that sets the consumer back (see
		// ReadStream) would get again what this one handed on.
		ctx, cancel := context.WithTimeout(context.Background(), DefaultFlushTimeout)
		defer cancel()
		r.confirmAcked(ctx)
		return
	}
	for _, m := range back[:len(back)-1] {
		_ = m.Nak()
	}
	// The last one as a request: the server answers once it has taken
	// it, and so every one before it.
	last := back[len(back)-1]
	if _, err := r.nc.Request(last.Reply(), []byte("-NAK"), DefaultFlushTimeout); err != nil {
		r.log.Debug("nats: messages given back may be delivered again late", "error", err)
	}
}
