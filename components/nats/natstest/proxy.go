package natstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/kamaelia-go/kamaelia/components/nats"
)

// ProxyHandle is a TCP proxy on 127.0.0.1 in front of a server, as Proxy
// returns it: clients connect to its URL, and the test can hold back what
// the server sends them.
type ProxyHandle struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	hold   bool
	resume chan struct{} // closed when holding stops
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// Proxy starts a proxy on 127.0.0.1, at a port the system chooses, to the
// server at url (nats://127.0.0.1:PORT), and stops it, closing every
// connection, when the test ends.
func Proxy(t testing.TB, url string) *ProxyHandle {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("natstest: proxy: %v", err)
	}
	p := &ProxyHandle{ln: ln, target: strings.TrimPrefix(url, "nats://"), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// URL returns the address clients connect to, "nats://127.0.0.1:PORT".
func (p *ProxyHandle) URL() string {
	return nats.LocalURL(p.ln.Addr().(*net.TCPAddr).Port)
}

// HoldReplies makes the proxy stop passing on what the server sends
// (hold true), keeping it, or pass on what it kept and carry on (false).
// What clients send still reaches the server.
func (p *ProxyHandle) HoldReplies(hold bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case hold && !p.hold:
		p.resume = make(chan struct{})
	case !hold && p.hold:
		close(p.resume)
	}
	p.hold = hold
}

// waitHold returns once what the server sends may be passed on, or the
// proxy has stopped.
func (p *ProxyHandle) waitHold() {
	p.mu.Lock()
	hold, resume := p.hold, p.resume
	p.mu.Unlock()
	if hold {
		<-resume
	}
}

func (p *ProxyHandle) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, s) {
			return
		}
		p.wg.Add(2)
		go p.pipe(s, c, false)
		go p.pipe(c, s, true)
	}
}

// track records a connection pair; false if the proxy has stopped.
func (p *ProxyHandle) track(c, s net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		c.Close()
		s.Close()
		return false
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	return true
}

// pipe copies from src to dst until either ends; replies (from the
// server) wait while held.
func (p *ProxyHandle) pipe(dst, src net.Conn, replies bool) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if replies {
				p.waitHold()
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF, or closed
		}
	}
}

func (p *ProxyHandle) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	if p.hold {
		close(p.resume)
		p.hold = false
	}
	p.mu.Unlock()
	p.wg.Wait()
}
