package natstest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kamaelia-go/kamaelia/components/nats"
)

// ProxyHandle is a TCP proxy on 127.0.0.1 in front of a server, as Proxy
// returns it: clients connect to its URL, and the test can hold back what
// the server sends them (HoldReplies) or lose some of the JetStream
// deliveries it sends them (DropDeliveries).
type ProxyHandle struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	hold   bool
	resume chan struct{} // closed when holding stops
	// drop: JetStream deliveries to let through (pass) before losing
	// the next lose of them
	pass, lose int
	dropped    chan int // told the count of each delivery lost
	conns      map[net.Conn]struct{}
	wg         sync.WaitGroup
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

// DropDeliveries makes the proxy let pass JetStream deliveries (messages
// the server sends with an acknowledgement subject, $JS.ACK.…) to its
// clients, then lose the next lose of them, as a server going away might
// after counting them as delivered: the server thinks them delivered and
// the client never sees them. Each one lost is told on the channel it
// returns (buffered for lose).
func (p *ProxyHandle) DropDeliveries(pass, lose int) <-chan int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pass, p.lose = pass, lose
	p.dropped = make(chan int, max(lose, 0))
	return p.dropped
}

// drop reports whether a delivery is to be lost, counting it.
func (p *ProxyHandle) drop() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.pass > 0:
		p.pass--
		return false
	case p.lose > 0:
		p.lose--
		p.dropped <- p.lose
		return true
	}
	return false
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
		go p.pipe(s, c)
		go p.replies(c, s)
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

// pipe copies what a client sends from src to dst until either ends.
func (p *ProxyHandle) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF, or closed
		}
	}
}

// replies copies what the server sends from src to dst, one protocol
// operation at a time (a line, and for MSG and HMSG the payload after
// it), waiting while held and leaving out the deliveries to lose.
func (p *ProxyHandle) replies(dst, src net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	r := bufio.NewReaderSize(src, 32<<10)
	for {
		op, err := readOp(r)
		if err != nil {
			return // io.EOF, or closed
		}
		p.waitHold()
		if isDelivery(op) && p.drop() {
			continue
		}
		if _, err := dst.Write(op); err != nil {
			return
		}
	}
}

// readOp reads one operation of the NATS protocol from the server.
func readOp(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	f := bytes.Fields(line)
	if len(f) < 4 || (string(f[0]) != "MSG" && string(f[0]) != "HMSG") {
		return line, nil
	}
	size, err := strconv.Atoi(string(f[len(f)-1])) // the total size, headers included
	if err != nil {
		return nil, err
	}
	op := make([]byte, len(line)+size+2) // the payload and its CRLF
	copy(op, line)
	if _, err := io.ReadFull(r, op[len(line):]); err != nil {
		return nil, err
	}
	return op, nil
}

// isDelivery reports whether op is a message from a JetStream consumer:
// MSG or HMSG subject sid reply … with an acknowledgement subject as its
// reply.
func isDelivery(op []byte) bool {
	f := bytes.Fields(op[:bytes.IndexByte(op, '\n')])
	return len(f) >= 5 && bytes.HasPrefix(f[3], []byte("$JS.ACK."))
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
