package nats

import (
	"sync"

	natsgo "github.com/nats-io/nats.go"
)

// DropCheckEvery is how many messages a receiver passes on between looks
// at nats.go's count of the messages dropped for its subscription (a look
// takes the subscription's lock, which nats.go's reader takes for every
// message). The Subscriber also looks whenever its buffer may have been
// full.
const DropCheckEvery = 256

// Drops follows nats.go's count of the messages dropped for a
// subscription whose receiver fell behind (see Subscriber), so that each
// drop is reported once. The zero value is ready; it is safe for
// concurrent use.
type Drops struct {
	mu       sync.Mutex
	reported int
}

// Check returns how many messages nats.go has dropped for sub since the
// last Check that returned more than 0, or 0 if none have been or sub is
// gone.
func (d *Drops) Check(sub *natsgo.Subscription) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, err := sub.Dropped()
	if err != nil || n <= d.reported {
		return 0
	}
	n, d.reported = n-d.reported, n
	return n
}
