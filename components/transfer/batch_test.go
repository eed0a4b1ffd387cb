package transfer_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/components/transfer"
)

// The Sender's DATA packets leave it many to a hand-off.
func TestSenderDataCrossInBatches(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src, dst := writeFile(t, dir, 600_000, 12), filepath.Join(dir, "dst.bin")
	h := axontest.NewHandOffs("HandOffs")
	s := &setup{toNet: func() []axon.Node { return []axon.Node{h.Component()} }}
	sendErr, recvErr := s.run(t, ctx, src, dst)
	if sendErr != nil || recvErr != nil {
		t.Fatalf("sender: %v; receiver: %v", sendErr, recvErr)
	}
	sameFile(t, src, dst)
	n, handOffs, most := h.Count()
	if sent := s.sender.Progress().Packets; uint64(n) < sent || most < 2 || handOffs > n/2 {
		t.Fatalf("%d packets (%d of them DATA) crossed in %d hand-offs, the largest of %d; want at least two to a hand-off", n, sent, handOffs, most)
	}
}

// A transfer in graphs run Unbatched, of more chunks than either side's
// inbox holds: their inboxes are read one message at a time, and free
// every slot they take.
func TestTransferUnbatched(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src, dst := writeFile(t, dir, 1_000_000, 13), filepath.Join(dir, "dst.bin")
	s := &setup{}
	if sendErr, recvErr := s.run(t, ctx, src, dst, axon.Unbatched()); sendErr != nil || recvErr != nil {
		t.Fatalf("sender: %v; receiver: %v", sendErr, recvErr)
	}
	sameFile(t, src, dst)
}

// A file that shrinks while it is sent fails the Sender with ErrFile as
// soon as it reads past the new end.
func TestSenderFileShrinks(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src := writeFile(t, dir, 10_000, 14)
	h := axon.Start(ctx, transfer.Sender(src, transfer.ChunkSize(100), transfer.Timeout(5*time.Second)))
	m := axontest.Get(t, ctx, h, axon.OutboxName)
	start, err := transfer.Parse(m.([]byte))
	if err != nil || start.Type != transfer.TypeStart {
		t.Fatalf("sender sent %v, %v; want START", start.Type, err)
	}
	if err := os.Truncate(src, 5_000); err != nil {
		t.Fatal(err)
	}
	axontest.Put(t, ctx, h, axon.InboxName, (&transfer.Packet{Type: transfer.TypeAccept, ID: start.ID, Window: 4}).Marshal())
	// It may send what it read before it found the file short; it must
	// not finish.
	for {
		m, err := h.Get(ctx, axon.OutboxName)
		if err != nil {
			break
		}
		if p, err := transfer.Parse(m.([]byte)); err != nil || p.Type != transfer.TypeData || p.Seq >= 50 {
			t.Fatalf("sender sent %v (chunk %d), %v; want only DATA of the first 5000 bytes", p.Type, p.Seq, err)
		}
	}
	err = h.Wait()
	if !errors.Is(err, transfer.ErrFile) || !strings.Contains(err.Error(), "shorter") {
		t.Fatalf("sender ended with %v, want ErrFile saying the file is shorter", err)
	}
}
