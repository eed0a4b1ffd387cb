package tcp_test

import (
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/internet/tcp/tcptest"
)

// raiseFileLimit raises the soft limit on open files to at least n (up to
// the hard limit) for the test, restoring it afterwards, or skips the test.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Skipf("cannot read the open-file limit: %v", err)
	}
	if old.Cur >= n {
		return
	}
	if old.Max < n {
		t.Skipf("needs %d open files; the hard limit is %d", n, old.Max)
	}
	raised := old
	raised.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		t.Skipf("cannot raise the open-file limit to %d: %v", n, err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// 1,000 clients connected at once to one echo server, each served
// separately; when all have gone, no session is left in the server.
func TestServerThousandConnections(t *testing.T) {
	const n = 1000
	raiseFileLimit(t, 2*n+200)
	ctx := axontest.Context(t)
	s := tcp.Server("127.0.0.1:0", echo)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	h := axontest.Start(t, ctx, s)
	// Every client connects and is echoed before any of them closes, so
	// all n are open at once.
	var (
		served, echoed sync.WaitGroup
		closeAll       = make(chan struct{})
		errs           = make(chan error, n)
	)
	served.Add(n)
	echoed.Add(n)
	for i := range n {
		go func() {
			defer echoed.Done()
			c, err := net.Dial("tcp", s.LocalAddr().String())
			if err != nil {
				served.Done()
				errs <- err
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(tcptest.Wait))
			msg := fmt.Sprintf("client %d", i)
			if _, err := io.WriteString(c, msg); err != nil {
				served.Done()
				errs <- err
				return
			}
			buf := make([]byte, len(msg))
			_, err = io.ReadFull(c, buf)
			served.Done()
			if err != nil || string(buf) != msg {
				errs <- fmt.Errorf("client %d: echo %q, %v", i, buf, err)
				return
			}
			<-closeAll
			c.(*net.TCPConn).CloseWrite()
			if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
				errs <- fmt.Errorf("client %d: after half-close read %q, %v", i, rest, err)
			}
		}()
	}
	served.Wait()
	select {
	case err := <-errs:
		close(closeAll)
		echoed.Wait()
		t.Fatal(err)
	default:
	}
	if k := len(s.Children()); k != n {
		t.Fatalf("%d sessions open, want %d", k, n)
	}
	close(closeAll)
	echoed.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
	if k := len(s.Children()); k != 0 {
		t.Fatalf("%d sessions left after every client went, want 0", k)
	}
}
