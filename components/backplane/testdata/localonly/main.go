// Command localonly uses only the in-process Backplane, PublishTo and
// SubscribeTo: TestNoNATSClient builds it to show that such a program
// links no NATS client.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/util"
)

func main() {
	ctx := context.Background()
	hub := axon.Start(ctx, backplane.Backplane("news"))
	sub := backplane.SubscribeTo("news")
	reader := axon.Start(ctx, chassis.Pipeline(sub, util.ConsoleEchoer(os.Stdout, util.WithNewline())))
	<-sub.Joined()
	err := axon.Run(ctx, chassis.Pipeline(util.DataSource([]string{"hello"}), backplane.PublishTo("news")))
	_ = hub.Put(ctx, axon.ControlName, axon.ProducerFinished{})
	if err == nil {
		err = hub.Wait()
	}
	if err == nil {
		err = reader.Wait()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
