package axon

import "context"

// SendAll sends msgs on b, in order, in one Batch of b's owner (see
// Component.Batch): where the destination takes batches they cross
// together and wake its reader once. It returns the first error, with
// the messages before it sent. Like Batch, it may be called from a
// goroutine other than the owner's main loop, so long as no other sends
// on b at the same time.
func (b *Outbox) SendAll(ctx context.Context, msgs []any) error {
	if len(msgs) == 1 {
		return b.Send(ctx, msgs[0])
	}
	return b.owner.Batch(ctx, func(ctx context.Context) error {
		for _, m := range msgs {
			if err := b.Send(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}
