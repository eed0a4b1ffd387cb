package util_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

func ExampleConsoleReader() {
	input := strings.NewReader("hello\r\nworld\nno newline at the end")
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.ConsoleReader(input),
		util.PureTransformer(func(m any) any { return "> " + m.(string) }),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// > hello
	// > world
	// > no newline at the end
	// err: <nil>
}

func ExampleConsoleEchoer() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]any{"text, ", []byte("bytes, "), 42, ", ", util.Merged{Box: "b", Msg: 1}}),
		util.ConsoleEchoer(os.Stdout),
	))
	fmt.Println()
	fmt.Println("err:", err)
	// Output:
	// text, bytes, 42, b: 1
	// err: <nil>
}

// With Forward, a ConsoleEchoer can log what passes through the middle of
// a pipeline.
func ExampleForward() {
	var log strings.Builder
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]string{"a", "b"}),
		util.ConsoleEchoer(&log, util.WithNewline(), util.Forward()),
		util.Map(strings.ToUpper),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Print("log:\n", log.String())
	fmt.Println("err:", err)
	// Output:
	// A
	// B
	// log:
	// a
	// b
	// err: <nil>
}

func ExampleDataSource() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]int{1, 2, 3}),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// 1
	// 2
	// 3
	// err: <nil>
}

func ExampleTriggeredSource() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]string{"x", "y", "z"}),
		util.TriggeredSource("tick"),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// tick
	// tick
	// tick
	// err: <nil>
}

func ExamplePureTransformer() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]int{1, 2, 3, 4}),
		util.PureTransformer(func(m any) any {
			if m.(int) == 3 {
				return nil // dropped
			}
			return m.(int) * 10
		}),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// 10
	// 20
	// 40
	// err: <nil>
}

func ExampleFilter() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]int{1, 2, 3, 4, 5, 6}),
		util.Filter(func(n int) bool { return n%2 == 0 }),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// 2
	// 4
	// 6
	// err: <nil>
}

// Map is the typed PureTransformer: each stage says what it takes and
// what it gives, so a function needs no type assertion and Link refuses
// stages that do not fit.
func ExampleMap() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]string{"kamaelia", "go"}),
		util.Map(func(s string) int { return len(s) }),
		util.Map(func(n int) string { return strings.Repeat("*", n) }),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// ********
	// **
	// err: <nil>
}

// Fanout copies each message to its outboxes "a" and "b", here the two
// sides of a Comparator, which finds every pair equal.
func ExampleFanout() {
	g := chassis.Graphline(
		chassis.Nodes{
			"SRC": util.DataSource([]string{"p", "q"}),
			"FAN": util.Fanout("a", "b"),
			"CMP": util.Comparator(),
			"OUT": util.ConsoleEchoer(os.Stdout, util.WithNewline()),
		},
		chassis.Links{
			{"SRC", "outbox"}: {"FAN", "inbox"},
			{"SRC", "signal"}: {"FAN", "control"},
			{"FAN", "a"}:      {"CMP", "inA"},
			{"FAN", "b"}:      {"CMP", "inB"},
			{"FAN", "signal"}: {"CMP", "control"},
			{"CMP", "outbox"}: {"OUT", "inbox"},
			{"CMP", "signal"}: {"OUT", "control"},
		})
	fmt.Println("err:", axon.Run(context.Background(), g))
	// Output:
	// true
	// true
	// err: <nil>
}

// A Splitter's sinks can be added before it runs (as here) or while it
// runs. Both sides of a Comparator are sinks here.
func ExampleSplitter() {
	ctx := context.Background()
	sp := util.Splitter()
	cmp := util.Comparator()
	g := chassis.Graphline(
		chassis.Nodes{
			"SRC":   util.DataSource([]int{7, 8, 9}),
			"SPLIT": sp,
			"CMP":   cmp,
			"OUT":   util.ConsoleEchoer(os.Stdout, util.WithNewline()),
		},
		chassis.Links{
			{"SRC", "outbox"}:   {"SPLIT", "inbox"},
			{"SRC", "signal"}:   {"SPLIT", "control"},
			{"SPLIT", "signal"}: {"CMP", "control"},
			{"CMP", "outbox"}:   {"OUT", "inbox"},
			{"CMP", "signal"}:   {"OUT", "control"},
		})
	for _, box := range []string{"inA", "inB"} {
		if err := sp.AddSink(ctx, cmp, box); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println("err:", axon.Run(ctx, g))
	// Output:
	// true
	// true
	// true
	// err: <nil>
}

// Merge labels each message with the inbox it came in on; here only
// "left" is fed.
func ExampleMerge() {
	g := chassis.Graphline(
		chassis.Nodes{
			"SRC": util.DataSource([]string{"one", "two"}),
			"MRG": util.Merge("left"),
			"OUT": util.ConsoleEchoer(os.Stdout, util.WithNewline()),
		},
		chassis.Links{
			{"SRC", "outbox"}: {"MRG", "left"},
			{"SRC", "signal"}: {"MRG", "control"},
			{"MRG", "outbox"}: {"OUT", "inbox"},
			{"MRG", "signal"}: {"OUT", "control"},
		})
	fmt.Println("err:", axon.Run(context.Background(), g))
	// Output:
	// left: one
	// left: two
	// err: <nil>
}

// Collate turns a stream into one message, here to sort it.
func ExampleCollate() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]string{"pear", "apple", "fig"}),
		util.Collate(util.MaxItems(1000)),
		util.PureTransformer(func(m any) any {
			items := m.([]any)
			slices.SortFunc(items, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
			return items
		}),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// [apple fig pear]
	// err: <nil>
}

func ExampleComparator() {
	ctx := context.Background()
	h := axon.Start(ctx, util.Comparator())
	for _, pair := range [][2]any{{1, 1}, {"a", "b"}, {[]int{1}, []int{1}}} {
		_ = h.Put(ctx, "inA", pair[0])
		_ = h.Put(ctx, "inB", pair[1])
		eq, _ := h.Get(ctx, "outbox")
		fmt.Println(pair[0], pair[1], eq)
	}
	_ = h.Put(ctx, "control", axon.ProducerFinished{})
	fmt.Println("err:", h.Wait())
	// Output:
	// 1 1 true
	// a b false
	// [1] [1] true
	// err: <nil>
}

// Linger lets the end of a stream wait: here the Collate is told to
// finish 10 ms after the DataSource has finished.
func ExampleLinger() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]string{"a", "b"}),
		util.Linger(10*time.Millisecond),
		util.Collate(),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// [a b]
	// err: <nil>
}

// Cycle goes round its items for as long as it runs; Take ends the
// pipeline after five of them.
func ExampleCycle() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.Cycle(time.Millisecond, "server1:1500", "server2:1500"),
		util.Take(5),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// server1:1500
	// server2:1500
	// server1:1500
	// server2:1500
	// server1:1500
	// err: <nil>
}

// Take makes a finite stream of the first few messages of an endless
// one. (Cycle ends by itself once Take has: a DataSource of more items
// than Take's inbox holds would fail, its receiver gone.)
func ExampleTake() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.Cycle(time.Millisecond, 1, 2, 3),
		util.Take(2),
		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
	))
	fmt.Println("err:", err)
	// Output:
	// 1
	// 2
	// err: <nil>
}

// FlushAfter sets how long output may wait once the inbox is empty; a
// ConsoleEchoer also flushes whenever it ends.
func ExampleFlushAfter() {
	err := axon.Run(context.Background(), chassis.Pipeline(
		util.DataSource([]string{"written", "in", "one", "piece"}),
		util.ConsoleEchoer(os.Stdout, util.WithNewline(), util.FlushAfter(10*time.Millisecond)),
	))
	fmt.Println("err:", err)
	// Output:
	// written
	// in
	// one
	// piece
	// err: <nil>
}

// CheckedTransformer parses numbers: good ones go on, bad ones are
// reported on "errors" and skipped.
func ExampleCheckedTransformer() {
	var errs strings.Builder
	g := chassis.Graphline(chassis.Nodes{
		"SRC":   util.DataSource([]string{"1", "two", "3"}),
		"PARSE": util.CheckedTransformer(func(m any) (any, error) { return strconv.Atoi(m.(string)) }),
		"OUT":   util.ConsoleEchoer(os.Stdout, util.WithNewline()),
		"ERR":   util.ConsoleEchoer(&errs, util.WithNewline()),
	}, chassis.Links{
		{"SRC", "outbox"}:   {"PARSE", "inbox"},
		{"SRC", "signal"}:   {"PARSE", "control"},
		{"PARSE", "outbox"}: {"OUT", "inbox"},
		{"PARSE", "errors"}: {"ERR", "inbox"},
		{"PARSE", "signal"}: {"ERR", "control"},
		{"ERR", "signal"}:   {"OUT", "control"},
	})
	err := axon.Run(context.Background(), g)
	fmt.Print("errors:\n", errs.String())
	fmt.Println("err:", err)
	// Output:
	// 1
	// 3
	// errors:
	// strconv.Atoi: parsing "two": invalid syntax
	// err: <nil>
}
