// Package observe shows a running kamaelia graph to people and to
// monitoring: a Prometheus collector of every box's and component's
// metrics (Collector), and a live page that draws the graph, colours each
// inbox by how full it is and updates several times a second (Handler,
// Listen). Everything the page needs is embedded in the binary; nothing
// is fetched from elsewhere.
//
//	srv, err := observe.Listen(ctx, "127.0.0.1:8080", graph)
//	if err != nil {
//		return err
//	}
//	defer srv.Close()
//	return axon.Run(ctx, graph)
//
// It is a package of its own so that a program that does not use it does
// not link Prometheus's client, and it sits under axon because that is
// where the metrics come from: they are kept by axon (see axon.Snapshot
// and axon.Watch), whether anything reads them or not.
package observe
