package framing_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/framing"
)

// benchStream is n messages of size bytes, framed by encode, cut into
// 64 KiB chunks as a TCP read might give them.
func benchStream(n, size int, encode func(dst, msg []byte) []byte) (chunks [][]byte, total int) {
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i*7 + 1) // zeros included, for COBS
	}
	var s []byte
	for range n {
		s = encode(s, msg)
	}
	for len(s) > 0 {
		k := min(64<<10, len(s))
		chunks, s = append(chunks, s[:k]), s[k:]
	}
	return chunks, n * size
}

func benchSplitter(b *testing.B, newS func() splitter, encode func(dst, msg []byte) []byte, size int) {
	chunks, total := benchStream(1000, size, encode)
	b.SetBytes(int64(total))
	for b.Loop() {
		s := newS()
		n := 0
		for _, c := range chunks {
			s.Write(c)
			for {
				_, ok, err := s.Next()
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					break
				}
				n++
			}
		}
		if n != 1000 {
			b.Fatalf("%d messages", n)
		}
	}
}

// BenchmarkSplitter is the length-prefix core alone; BenchmarkCOBSSplitter
// the COBS one. MB/s counts payload bytes.
func BenchmarkSplitter(b *testing.B) {
	for _, size := range []int{64, 1500, 64 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			benchSplitter(b, func() splitter { return framing.NewSplitter(0) }, framing.AppendFrame, size)
		})
	}
}

func BenchmarkCOBSSplitter(b *testing.B) {
	for _, size := range []int{64, 1500, 64 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			benchSplitter(b, func() splitter { return framing.NewCOBSSplitter(0) }, framing.AppendCOBS, size)
		})
	}
}

// BenchmarkDeframer is the component: 64 KiB chunks in, 1500-byte
// messages out, through its boxes.
func BenchmarkDeframer(b *testing.B) {
	chunks, total := benchStream(1000, 1500, framing.AppendFrame)
	b.SetBytes(int64(total))
	ctx := context.Background()
	for b.Loop() {
		h := axon.Start(ctx, framing.Deframer())
		go func() {
			for _, c := range chunks {
				if err := h.Put(ctx, axon.InboxName, c); err != nil {
					return
				}
			}
			_ = h.Put(ctx, axon.ControlName, axon.ProducerFinished{})
		}()
		n := 0
		for {
			if _, err := h.Get(ctx, axon.OutboxName); err != nil {
				break
			}
			n++
		}
		if err := h.Wait(); err != nil || n != 1000 {
			b.Fatalf("%d messages, %v", n, err)
		}
	}
}
