package framing_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/components/framing"
	"github.com/kamaelia-go/kamaelia/util"
)

func ExampleFramer() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]string{"hi", "", "there"}),
		framing.Framer(),
		util.PureTransformer(func(m any) any { return fmt.Sprintf("% x", m) }),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// 00 00 00 02 68 69
	// 00 00 00 00
	// 00 00 00 05 74 68 65 72 65
	// err: <nil>
}

// A Deframer gives back whole messages however the stream was cut, as a
// TCP connection may cut it.
func ExampleDeframer() {
	stream := framing.AppendFrame(nil, []byte("hello"))
	stream = framing.AppendFrame(stream, []byte("world"))
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([][]byte{stream[:3], stream[3:11], stream[11:]}),
		framing.Deframer(),
		util.PureTransformer(func(m any) any { return string(m.([]byte)) }),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// hello
	// world
	// err: <nil>
}

func ExampleChunker() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([][]byte{{'a', 0, 'b'}, {}}),
		framing.Chunker(),
		util.PureTransformer(func(m any) any { return fmt.Sprintf("% x", m) }),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// 02 61 02 62 00
	// 01 00
	// err: <nil>
}

// A Dechunker reports damage on "errors" and finds its place again at the
// next delimiter. Here both its outboxes feed one printer, so messages and
// errors show in the order they were found.
func ExampleDechunker() {
	stream := framing.AppendCOBS(nil, []byte("one"))
	stream = append(stream, "\x09damaged\x00"...) // a block cut short
	stream = framing.AppendCOBS(stream, []byte("two"))

	g := chassis.Graphline(
		chassis.Nodes{
			"SRC": util.DataSource([][]byte{stream}),
			"DEC": framing.Dechunker(),
			"SHOW": util.PureTransformer(func(m any) any {
				var e *framing.Error // inside the *axon.BoxError naming DEC and its inbox
				if err, ok := m.(error); ok && errors.As(err, &e) {
					return fmt.Sprintf("error: %v (%d bytes lost)", e.Err, e.Lost)
				}
				return string(m.([]byte))
			}),
			"OUT": util.ConsoleEchoer(os.Stdout, util.WithNewline()),
		},
		chassis.Links{
			{"SRC", "outbox"}:  {"DEC", "inbox"},
			{"SRC", "signal"}:  {"DEC", "control"},
			{"DEC", "outbox"}:  {"SHOW", "inbox"},
			{"DEC", "errors"}:  {"SHOW", "inbox"},
			{"DEC", "signal"}:  {"SHOW", "control"},
			{"SHOW", "outbox"}: {"OUT", "inbox"},
			{"SHOW", "signal"}: {"OUT", "control"},
		})
	err := axon.Run(context.Background(), g)
	fmt.Println("err:", err)
	// Output:
	// one
	// error: malformed chunk (8 bytes lost)
	// two
	// err: <nil>
}

func ExampleChunkify() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]string{"abcd", "efghij"}),
		framing.Chunkify(4),
		util.PureTransformer(func(m any) any { return string(m.([]byte)) }),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// abcd
	// efgh
	// ij
	// err: <nil>
}

// The core works without components: frame messages with AppendFrame,
// and split a stream back into them with a Splitter.
func ExampleSplitter() {
	var stream []byte
	for _, m := range []string{"alpha", "beta"} {
		stream = framing.AppendFrame(stream, []byte(m))
	}
	s := framing.NewSplitter(0)
	for _, chunk := range [][]byte{stream[:6], stream[6:]} {
		s.Write(chunk)
		for {
			msg, ok, err := s.Next()
			if err != nil {
				fmt.Println("skipped:", err)
				continue
			}
			if !ok {
				break
			}
			fmt.Printf("%s\n", msg)
		}
	}
	fmt.Println("end:", s.End())
	// Output:
	// alpha
	// beta
	// end: <nil>
}

func ExampleAppendCOBS() {
	fmt.Printf("% x\n", framing.AppendCOBS(nil, []byte{0x11, 0x22, 0x00, 0x33}))
	// Output:
	// 03 11 22 02 33 00
}
