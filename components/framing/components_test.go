package framing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/components/framing"
	"github.com/kamaelia-go/kamaelia/util"
)

// result is what a component did with some input.
type result struct {
	out    []any
	errs   []error // each an *axon.BoxError around a *framing.Error
	signal any
}

// drive starts c, taps its outbox and errors, puts inputs into its inbox
// and then stop into its control, and collects everything it sends until
// it ends, checking it ended cleanly.
func drive(t *testing.T, c axon.Node, inputs []any, stop any) result {
	t.Helper()
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, c)
	axontest.Tap(t, h, framing.ErrorsBox)
	axontest.Tap(t, h, axon.OutboxName)
	var r result
	done := make(chan struct{})
	go func() { // read while putting, so neither side waits on the other
		defer close(done)
		for {
			m, err := h.Get(ctx, axon.OutboxName)
			if err != nil {
				return
			}
			r.out = append(r.out, m)
		}
	}()
	for _, in := range inputs {
		axontest.Put(t, ctx, h, axon.InboxName, in)
	}
	axontest.Put(t, ctx, h, axon.ControlName, stop)
	<-done
	axontest.Wait(t, h)
	r.signal = axontest.Get(t, ctx, h, axon.SignalName)
	for {
		m, err := h.Get(ctx, framing.ErrorsBox)
		if err != nil {
			break
		}
		e, ok := m.(*axon.BoxError)
		if !ok {
			t.Fatalf("errors: %T %v, want *axon.BoxError", m, m)
		}
		r.errs = append(r.errs, e)
	}
	return r
}

// outBytes returns r's output as [][]byte, failing on anything else.
func (r result) outBytes(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, m := range r.out {
		b, ok := m.([]byte)
		if !ok {
			t.Fatalf("outbox: %T, want []byte", m)
		}
		out = append(out, b)
	}
	return out
}

var finished = axon.ProducerFinished{From: axontest.Tester}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// checkSignal checks the shutdown message came through unchanged.
func checkSignal(t *testing.T, r result, want any) {
	t.Helper()
	if r.signal != want {
		t.Fatalf("signal: got %#v, want %#v", r.signal, want)
	}
}

func TestFramerDeframerRoundTrip(t *testing.T) {
	msgs := sample()
	in := append(anys(msgs), "a string")
	want := append(msgs, []byte("a string"))

	framed := drive(t, framing.Framer(), in, finished)
	checkSignal(t, framed, finished)
	if len(framed.errs) != 0 || len(framed.out) != len(want) {
		t.Fatalf("Framer: %d frames, errors %v", len(framed.out), framed.errs)
	}
	var s []byte
	for i, f := range framed.outBytes(t) {
		if exp := framing.AppendFrame(nil, want[i]); string(f) != string(exp) {
			t.Fatalf("frame %d: % x, want % x", i, f, exp)
		}
		s = append(s, f...)
	}

	// The stream cut at every point into two chunks, and the first 40
	// bytes at every pair of points into three.
	check := func(chunks [][]byte) {
		t.Helper()
		r := drive(t, framing.Deframer(), anys(chunks), finished)
		checkSignal(t, r, finished)
		if got := r.outBytes(t); !sameMessages(got, want) || len(r.errs) != 0 {
			t.Fatalf("cut as %d chunks: got %q, errors %v", len(chunks), got, r.errs)
		}
	}
	for i := 0; i <= len(s); i += 1 + i/40 {
		check(cut(s, i))
	}
	for i := 0; i <= 40; i += 3 {
		for j := i; j <= 40; j += 5 {
			check(cut(s, i, j))
		}
	}
}

func TestChunkerDechunkerRoundTrip(t *testing.T) {
	msgs := sample()
	enc := drive(t, framing.Chunker(), anys(msgs), finished)
	checkSignal(t, enc, finished)
	var s []byte
	for i, c := range enc.outBytes(t) {
		if exp := framing.AppendCOBS(nil, msgs[i]); string(c) != string(exp) {
			t.Fatalf("chunk %d: % x, want % x", i, c, exp)
		}
		s = append(s, c...)
	}
	for i := 0; i <= len(s); i += 1 + i/40 {
		r := drive(t, framing.Dechunker(), anys(cut(s, i)), finished)
		checkSignal(t, r, finished)
		if got := r.outBytes(t); !sameMessages(got, msgs) || len(r.errs) != 0 {
			t.Fatalf("cut at %d: got %q, errors %v", i, got, r.errs)
		}
	}
}

func TestDechunkerResynchronises(t *testing.T) {
	in := []any{
		framing.AppendCOBS(nil, []byte("one")),
		"garbage\x00", // reported; decoding starts again after the 0
		framing.AppendCOBS(nil, []byte("two")),
	}
	r := drive(t, framing.Dechunker(), in, finished)
	if got := r.outBytes(t); len(got) != 2 || string(got[0]) != "one" || string(got[1]) != "two" {
		t.Fatalf("got %q", got)
	}
	if len(r.errs) != 1 {
		t.Fatalf("errors %v, want 1", r.errs)
	}
	be, e := reported(t, r.errs[0], framing.ErrMalformed)
	if !strings.HasPrefix(be.Component, "Dechunker#") || e.Lost != 7 {
		t.Fatalf("error %v (%+v)", be, e)
	}
}

func TestFramerTooLong(t *testing.T) {
	for _, c := range []*axon.Component{framing.Framer(framing.MaxFrame(3)), framing.Chunker(framing.MaxFrame(3))} {
		r := drive(t, c, []any{"abc", "abcd", "xyz"}, finished)
		if got := r.outBytes(t); len(got) != 2 {
			t.Fatalf("%s: %d messages out, want 2 (the long one skipped)", c.Name(), len(got))
		}
		if len(r.errs) != 1 {
			t.Fatalf("%s: errors %v", c.Name(), r.errs)
		}
		be, e := reported(t, r.errs[0], framing.ErrFrameTooLong)
		if e.Length != 4 || be.Component != c.String() {
			t.Fatalf("%s: error %v (%+v)", c.Name(), be, e)
		}
	}
}

func TestDeframerOversizedLength(t *testing.T) {
	s := framing.AppendFrame(nil, []byte("0123456789")) // declares 10
	s = framing.AppendFrame(s, []byte("ok"))
	c := framing.Deframer(framing.MaxFrame(9))
	r := drive(t, c, anys(cut(s, 3, 7, 12)), finished)
	if got := r.outBytes(t); len(got) != 1 || string(got[0]) != "ok" {
		t.Fatalf("got %q, want the frame after the oversized one", got)
	}
	if len(r.errs) != 1 {
		t.Fatalf("errors %v", r.errs)
	}
	if _, e := reported(t, r.errs[0], framing.ErrFrameTooLong); e.Length != 10 || e.Lost != 10 {
		t.Fatalf("error %+v", e)
	}
	if want := c.String() + ".inbox: deframe: frame too long (length 10, 10 bytes lost)"; r.errs[0].Error() != want {
		t.Errorf("got %q, want %q", r.errs[0], want)
	}
}

func TestTruncatedAtProducerFinished(t *testing.T) {
	why := errors.New("connection reset")
	pf := axon.ProducerFinished{From: axontest.Tester, Reason: why}
	for _, tc := range []struct {
		c    *axon.Component
		in   []byte
		lost int
	}{
		{framing.Deframer(), append(framing.AppendFrame(nil, []byte("whole")), 0, 0, 0, 8, 'p', 'a'), 6},
		{framing.Dechunker(), append(framing.AppendCOBS(nil, []byte("whole")), 4, 'p', 'a'), 3},
	} {
		ctx := axontest.Context(t)
		h := axontest.Start(t, ctx, tc.c)
		axontest.Tap(t, h, framing.ErrorsBox)
		axontest.Put(t, ctx, h, axon.InboxName, tc.in)
		if m := axontest.Get(t, ctx, h, axon.OutboxName); string(m.([]byte)) != "whole" {
			t.Fatalf("%s: got %q", tc.c.Name(), m)
		}
		axontest.Put(t, ctx, h, axon.ControlName, pf)
		// The shutdown message passes on unchanged, reason and all...
		axontest.ExpectSignal(t, ctx, h, pf)
		// ...and the loss was reported before it: already queued.
		done, cancel := context.WithCancel(ctx)
		cancel()
		m, err := h.Get(done, framing.ErrorsBox)
		if err != nil {
			t.Fatalf("%s: no error queued when ProducerFinished was passed on: %v", tc.c.Name(), err)
		}
		_, e := reported(t, m.(error), framing.ErrTruncated)
		if e.Lost != tc.lost {
			t.Fatalf("%s: error %+v, want %d lost", tc.c.Name(), e, tc.lost)
		}
		axontest.Wait(t, h)
		axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
	}
}

func TestShutdownMicroprocess(t *testing.T) {
	// Stopped at once: a partial frame is dropped without a report, and
	// Chunkify sends no short piece. Each input makes one message first,
	// read before the stop, so the partial part is known to be held.
	sm := axon.ShutdownMicroprocess{From: axontest.Tester}
	partial := []byte{0, 0, 2, 'p'}
	for _, tc := range []struct {
		c   *axon.Component
		in  []byte
		out string
	}{
		{framing.Framer(), []byte("m"), "\x00\x00\x00\x01m"},
		{framing.Chunker(), []byte("m"), "\x02m\x00"},
		{framing.Deframer(), append(framing.AppendFrame(nil, []byte("m")), partial...), "m"},
		{framing.Dechunker(), append(framing.AppendCOBS(nil, []byte("m")), partial...), "m"},
		{framing.Chunkify(4), []byte("abcdef"), "abcd"},
	} {
		ctx := axontest.Context(t)
		h := axontest.Start(t, ctx, tc.c)
		axontest.Tap(t, h, framing.ErrorsBox)
		axontest.Put(t, ctx, h, axon.InboxName, tc.in)
		if m := axontest.Get(t, ctx, h, axon.OutboxName); string(m.([]byte)) != tc.out {
			t.Fatalf("%s: got %q, want %q", tc.c.Name(), m, tc.out)
		}
		axontest.StopWith(t, ctx, h, sm)
		axontest.ExpectEnded(t, ctx, h, axon.OutboxName)
		axontest.ExpectEnded(t, ctx, h, framing.ErrorsBox)
	}
}

func TestBadMessageTypes(t *testing.T) {
	for _, c := range []*axon.Component{
		framing.Framer(), framing.Deframer(), framing.Chunker(), framing.Dechunker(), framing.Chunkify(1),
	} {
		name := c.Name()
		r := drive(t, c, []any{42, struct{}{}}, finished)
		checkSignal(t, r, finished)
		if len(r.out) != 0 || len(r.errs) != 2 {
			t.Fatalf("%s: out %v, errors %v", name, r.out, r.errs)
		}
		for i, typ := range []string{"int", "struct {}"} {
			be, _ := reported(t, r.errs[i], framing.ErrBadMessage)
			if be.Component != c.String() || !strings.Contains(be.Error(), typ) {
				t.Fatalf("%s: error %q should name the component, the box and %s", name, be, typ)
			}
		}
	}
}

func TestErrorsUnlinkedKeepsWorking(t *testing.T) {
	// With "errors" leading nowhere, errors are logged and the stream
	// goes on.
	ctx := axontest.Context(t)
	var out []string
	err := axon.Run(ctx, chassis.Pipeline(
		util.DataSource([]any{"a", 1, "b"}),
		framing.Framer(),
		framing.Deframer(),
		util.PureTransformer(func(m any) any { out = append(out, string(m.([]byte))); return nil }),
	))
	if err != nil || fmt.Sprint(out) != "[a b]" {
		t.Fatalf("got %v, %v", out, err)
	}
}

func TestChunkify(t *testing.T) {
	in := []byte("abcdefghij")
	for i := 0; i <= len(in); i++ {
		for j := i; j <= len(in); j++ {
			r := drive(t, framing.Chunkify(3), anys(cut(in, i, j)), finished)
			checkSignal(t, r, finished)
			got := fmt.Sprintf("%s", r.outBytes(t))
			if got != "[abc def ghi j]" || len(r.errs) != 0 {
				t.Fatalf("cut at %d, %d: got %s, errors %v", i, j, got, r.errs)
			}
		}
	}
	r := drive(t, framing.Chunkify(2), []any{"abcd"}, finished)
	if got := fmt.Sprintf("%s", r.outBytes(t)); got != "[ab cd]" {
		t.Fatalf("exact multiple: got %s", got)
	}
	// Pieces are fresh slices: appending to one leaves the next alone.
	r = drive(t, framing.Chunkify(2), []any{"abcd"}, finished)
	p := r.outBytes(t)
	_ = append(p[0], 'X')
	if string(p[1]) != "cd" {
		t.Fatalf("pieces share memory: %q", p[1])
	}
}

func TestBadConfiguration(t *testing.T) {
	for _, c := range []*axon.Component{
		framing.Framer(framing.MaxFrame(0)), framing.Deframer(framing.MaxFrame(-1)),
		framing.Chunker(framing.MaxFrame(0)), framing.Dechunker(framing.MaxFrame(0)),
		framing.Chunkify(0),
	} {
		err := axon.Run(context.Background(), c)
		if !errors.Is(err, framing.ErrConfig) || !strings.Contains(err.Error(), c.Name()) {
			t.Fatalf("%s: got %v, want ErrConfig naming it", c.Name(), err)
		}
	}
}

func TestDeframerMessagesAreFresh(t *testing.T) {
	s := framing.AppendFrame(nil, []byte("ab"))
	s = framing.AppendFrame(s, []byte("cd"))
	r := drive(t, framing.Deframer(), []any{s}, finished)
	got := r.outBytes(t)
	_ = append(got[0], 'X')
	for i := range s {
		s[i] = '!'
	}
	if string(got[0]) != "ab" || string(got[1]) != "cd" {
		t.Fatalf("messages share memory with the input or each other: %q", got)
	}
}
