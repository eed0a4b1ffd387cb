package axon

import (
	"fmt"
	"sort"
	"sync"
)

// Service is a component's inbox published under a name, so that other
// parts of a program can find it without being wired to it: Kamaelia's
// Coordinating Assistant Tracker.
type Service struct {
	Name      string
	Component *Component
	Inbox     string
}

// Registry maps service names to inboxes. The zero value is ready to use;
// most programs share Services.
type Registry struct {
	mu       sync.RWMutex
	services map[string]Service
}

// Services is the process-wide registry, as Kamaelia's tracker was.
var Services = &Registry{}

// Register publishes n's inbox under name. The inbox must exist, and a
// name can be registered once: a second registration is an error wrapping
// ErrServiceExists that names the current holder.
func (r *Registry) Register(name string, n Node, inbox string) error {
	c := n.Core()
	if c.Inbox(inbox) == nil {
		return fmt.Errorf("register service %q: %w", name, &BoxError{Component: c.String(), Box: inbox, Err: ErrNoSuchBox})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.services[name]; ok {
		return fmt.Errorf("register service %q: %w: held by %s.%s", name, ErrServiceExists, s.Component, s.Inbox)
	}
	if r.services == nil {
		r.services = make(map[string]Service)
	}
	r.services[name] = Service{Name: name, Component: c, Inbox: inbox}
	return nil
}

// Lookup returns the service registered under name, or an error wrapping
// ErrNoService.
func (r *Registry) Lookup(name string) (Service, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.services[name]
	if !ok {
		return Service{}, fmt.Errorf("look up service %q: %w", name, ErrNoService)
	}
	return s, nil
}

// Deregister removes name. Removing a name nobody holds is an error
// wrapping ErrNoService.
func (r *Registry) Deregister(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.services[name]; !ok {
		return fmt.Errorf("deregister service %q: %w", name, ErrNoService)
	}
	delete(r.services, name)
	return nil
}

// Names lists the registered names in order.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.services))
	for n := range r.services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
