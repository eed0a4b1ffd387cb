package natstest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

// ExampleServer starts an embedded server, as a test would, and sends a
// message through it.
func ExampleServer() {
	// In a test, pass the test's *testing.T; here a stand-in runs the
	// cleanups when the example ends.
	t := &exampleT{}
	defer t.cleanup()

	s := natstest.Server(t)
	nc, err := nats.Connect(s.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	sub, _ := nc.SubscribeSync("greetings")
	nc.Publish("greetings", []byte("hello"))
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(m.Data))
	// Output: hello
}

// exampleT is the little of testing.TB that an example can provide.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (t *exampleT) Helper()                   {}
func (t *exampleT) Cleanup(f func())          { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
