package udp_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// fakeDNS is a DNS server on loopback that answers A queries for the
// names it is given, NXDOMAIN for anything else, and can hold the answer
// for a name back until the test releases it: a real resolver, talking to
// a real server, whose timing the test controls.
type fakeDNS struct {
	t    *testing.T
	conn *net.UDPConn

	mu      sync.Mutex
	names   map[string]netip.Addr    // "name." -> address
	holds   map[string]chan struct{} // "name." -> closed to answer
	queries map[string]int           // questions asked, by name
}

func newFakeDNS(t *testing.T) *fakeDNS {
	t.Helper()
	conn := listen(t, "127.0.0.1:0")
	d := &fakeDNS{t: t, conn: conn,
		names:   make(map[string]netip.Addr),
		holds:   make(map[string]chan struct{}),
		queries: make(map[string]int)}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.serve(done, &wg)
	}()
	t.Cleanup(func() {
		close(done)
		conn.Close()
		d.mu.Lock()
		for name, ch := range d.holds {
			close(ch)
			delete(d.holds, name)
		}
		d.mu.Unlock()
		wg.Wait()
	})
	return d
}

// add makes name resolve to addr.
func (d *fakeDNS) add(name string, addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.names[dnsName(name)] = netip.MustParseAddr(addr)
}

// hold makes answers about name wait until the returned func is called.
func (d *fakeDNS) hold(name string) (release func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ch := make(chan struct{})
	d.holds[dnsName(name)] = ch
	return func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if _, ok := d.holds[dnsName(name)]; ok {
			delete(d.holds, dnsName(name))
			close(ch)
		}
	}
}

// asked returns how many questions about name arrived.
func (d *fakeDNS) asked(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries[dnsName(name)]
}

func dnsName(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) + "." }

// resolver returns a Go resolver that asks only this server.
func (d *fakeDNS) resolver() *net.Resolver {
	server := d.conn.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "udp", server)
		},
	}
}

func (d *fakeDNS) serve(done <-chan struct{}, wg *sync.WaitGroup) {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		hdr, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		name := strings.ToLower(q.Name.String())
		d.mu.Lock()
		d.queries[name]++
		hold := d.holds[name]
		d.mu.Unlock()
		reply := d.answer(hdr, q)
		if hold == nil {
			d.conn.WriteToUDPAddrPort(reply, from)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-hold:
				d.conn.WriteToUDPAddrPort(reply, from)
			case <-done:
			}
		}()
	}
}

func (d *fakeDNS) answer(hdr dnsmessage.Header, q dnsmessage.Question) []byte {
	d.mu.Lock()
	addr, ok := d.names[strings.ToLower(q.Name.String())]
	d.mu.Unlock()
	rh := dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true, RecursionAvailable: true}
	if !ok {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	if ok && q.Type == dnsmessage.TypeA && addr.Is4() {
		b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.AResource{A: addr.As4()})
	}
	if ok && q.Type == dnsmessage.TypeAAAA && addr.Is6() {
		b.AAAAResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.AAAAResource{AAAA: addr.As16()})
	}
	msg, err := b.Finish()
	if err != nil {
		d.t.Errorf("fake DNS: %v", err)
	}
	return msg
}
