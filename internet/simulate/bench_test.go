package simulate_test

import (
	"context"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
	"github.com/kamaelia-go/kamaelia/util"
)

// benchStage measures messages a second through n: b.N 1 KiB payloads
// from a DataSource, drained by the handle.
func benchStage(b *testing.B, n axon.Node) {
	payload := make([]byte, 1024)
	items := make([][]byte, b.N)
	for i := range items {
		items[i] = payload
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(1024)
	b.ResetTimer()
	h := axon.Start(ctx, chassis.Pipeline(util.DataSource(items), n))
	for {
		if _, err := h.Get(ctx, axon.OutboxName); err != nil {
			break
		}
	}
	if err := h.Wait(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkLoss(b *testing.B)      { benchStage(b, simulate.Loss(0.2, simulate.Seed(1))) }
func BenchmarkDuplicate(b *testing.B) { benchStage(b, simulate.Duplicate(0.05, simulate.Seed(1))) }
func BenchmarkCorrupt(b *testing.B)   { benchStage(b, simulate.Corrupt(0.05, simulate.Seed(1))) }
func BenchmarkReorder(b *testing.B)   { benchStage(b, simulate.Reorder(8, simulate.Seed(1))) }
func BenchmarkDelay(b *testing.B) {
	benchStage(b, simulate.Delay(time.Millisecond, time.Millisecond, simulate.Seed(1)))
}
func BenchmarkNetwork(b *testing.B) {
	benchStage(b, simulate.Network(simulate.Config{Loss: 0.2, Duplicate: 0.05, Reorder: 8, Seed: 1}))
}
