package framing

import (
	"fmt"
	"math"
)

// DefaultMaxFrame is the largest message the components frame or accept
// unless told otherwise with MaxFrame: 16 MiB.
const DefaultMaxFrame = 16 << 20

// Option configures a Framer, Deframer, Chunker or Dechunker.
type Option func(*config)

type config struct {
	max int
	err error
}

// MaxFrame sets the largest message, in bytes, that the component frames
// or accepts (the payload, not counting the prefix or COBS overhead); n
// must be at least 1. A length prefix cannot declare more than 4 GiB - 1,
// so for Framer and Deframer a larger n means that.
func MaxFrame(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.err = fmt.Errorf("%w: MaxFrame(%d): must be at least 1", ErrConfig, n)
			return
		}
		c.max = n
	}
}

func newConfig(opts []Option) config {
	c := config{max: DefaultMaxFrame}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// maxLength is the largest length a 4-byte prefix can declare, as an int
// (smaller on a 32-bit platform).
const maxLength = min(math.MaxUint32, math.MaxInt)

// prefixLimit returns the bound for a length-prefixed frame: max, or
// DefaultMaxFrame if max <= 0, and never more than a prefix can declare.
func prefixLimit(max int) int {
	if max <= 0 {
		return DefaultMaxFrame
	}
	return min(max, maxLength)
}
