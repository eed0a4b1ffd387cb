package udp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// resolver looks host names up on goroutines of their own, so that a slow
// lookup holds up only the payloads waiting for it, and remembers answers
// for a while.
type resolver struct {
	r        *net.Resolver
	network  string // "ip4", "ip6" or "ip", to suit the socket
	cacheFor time.Duration

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	results chan lookup
	cache   map[string]cached // by "host:port"
}

// lookup is the outcome of resolving one "host:port".
type lookup struct {
	hostport string
	gen      uint64 // which request this answers, for the caller
	addr     netip.AddrPort
	err      error // wraps ErrResolve
}

type cached struct {
	addr    netip.AddrPort
	expires time.Time
}

// newResolver returns a resolver for a socket bound to local: names are
// resolved to IPv4 addresses for an IPv4 socket, IPv6 for an IPv6-only
// one, and either for a dual-stack socket, IPv4 first.
func newResolver(ctx context.Context, cfg *config, local netip.AddrPort) *resolver {
	network := "ip"
	switch a := local.Addr(); {
	case a.Is4() || a.Is4In6():
		network = "ip4"
	case a.Is6() && !a.IsUnspecified():
		network = "ip6"
	}
	ctx, cancel := context.WithCancel(ctx)
	return &resolver{
		r: cfg.resolver, network: network, cacheFor: cfg.cacheFor,
		ctx: ctx, cancel: cancel,
		results: make(chan lookup),
		cache:   make(map[string]cached),
	}
}

// cached returns a remembered answer for hostport, if it is fresh.
func (r *resolver) cached(hostport string, now time.Time) (netip.AddrPort, bool) {
	c, ok := r.cache[hostport]
	if !ok {
		return netip.AddrPort{}, false
	}
	if now.After(c.expires) {
		delete(r.cache, hostport)
		return netip.AddrPort{}, false
	}
	return c.addr, true
}

// remember keeps a successful answer.
func (r *resolver) remember(l lookup, now time.Time) {
	if l.err == nil && r.cacheFor > 0 {
		r.cache[l.hostport] = cached{addr: l.addr, expires: now.Add(r.cacheFor)}
	}
}

// start looks hostport up; the answer arrives on results.
func (r *resolver) start(hostport string, gen uint64) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		l := lookup{hostport: hostport, gen: gen}
		l.addr, l.err = r.resolve(hostport)
		select {
		case r.results <- l:
		case <-r.ctx.Done():
		}
	}()
}

// resolve looks up a "host:port" whose host is a name.
func (r *resolver) resolve(hostport string) (netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: %w", ErrBadAddress, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: port %q", ErrBadAddress, portStr)
	}
	addrs, err := r.r.LookupNetIP(r.ctx, r.network, host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: %w", ErrResolve, err)
	}
	best := netip.Addr{}
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is4() {
			best = a
			break
		}
		if !best.IsValid() {
			best = a
		}
	}
	if !best.IsValid() {
		return netip.AddrPort{}, fmt.Errorf("%w: %s has no %s address", ErrResolve, host, r.network)
	}
	return netip.AddrPortFrom(best, uint16(port)), nil
}

// close stops the lookups under way and waits for their goroutines.
func (r *resolver) close() {
	r.cancel()
	r.wg.Wait()
}
