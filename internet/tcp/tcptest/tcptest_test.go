package tcptest_test

import (
	"testing"

	"github.com/kamaelia-go/kamaelia/internet/tcp/tcptest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A dialled and an accepted connection carry bytes both ways, and a
// half-close reaches the other end as end of file.
func TestHelpersTalk(t *testing.T) {
	ln := tcptest.Listen(t)
	c := tcptest.Dial(t, tcptest.Addr(ln))
	s := tcptest.Accept(t, ln)
	tcptest.Write(t, c, "hello")
	if got := tcptest.Read(t, s, 5); got != "hello" {
		t.Fatalf("server read %q", got)
	}
	tcptest.Write(t, s, "back")
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got := tcptest.ReadToEOF(t, c); got != "back" {
		t.Fatalf("client read %q", got)
	}
}
