// Package simulate damages message streams the way networks do, so that
// protocols built from components can be tested against loss,
// duplication, reordering, delay, corruption and a narrow link without a
// real bad network.
//
// Each impairment is a Stage, a component that fits between any two
// components: between a producer and a consumer in a Pipeline, or
// between a UDP peer and the network, on the sending side (the []byte or
// udp.Packet payloads a peer's inbox takes) or on the receiving side (the
// udp.Datagram values a peer's outbox gives):
//
//	Loss(p)               drops each message with probability p
//	Duplicate(p)          sends a copy straight after a message, with probability p
//	Corrupt(p)            flips a bit (Bits(n): n bits) of a copy of the payload, with probability p
//	Reorder(window)       shuffles messages within a window, holding none longer than MaxHold
//	Delay(d, jitter)      delivers each message d ± jitter after it came
//	RateLimit(bytes/s)    a link of that bandwidth, with a queue that tail-drops (or blocks)
//
// Every stage passes shutdown messages on: ProducerFinished after
// delivering what it holds, ShutdownMicroprocess at once (discarding what
// it holds). Stats reports what each one did.
//
// # Seeds
//
// Every stage draws its random numbers from a PCG (math/rand/v2) seeded
// with the Seed option, or with a random seed that Stage.Seed reports:
// log it when a test fails and pass it back to repeat the run. For the
// same seed and the same input sequence a stage gives the same output
// sequence. The timed stages (Delay, RateLimit, and Reorder's MaxHold)
// also depend on when messages come; on a ManualClock (WithClock) they
// depend on the seed and the input alone.
//
// # Network
//
// Network builds one component from a Config, with the stages in the
// order a packet meets those troubles on a real path:
//
//	RateLimit -> Loss -> Duplicate -> Corrupt -> Reorder -> Delay
//
// Zero fields are off. Each stage's seed is derived from Config.Seed (see
// StageSeed), so a whole path is repeated from one number, and turning a
// stage on or off leaves the other stages' choices as they were.
package simulate
