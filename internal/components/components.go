// Package components lists what `skiff server` runs besides the API
// server. The CLI and the in-process test cluster share the list, so tests
// run exactly what users run.
package components

import (
	"github.com/skiff-io/skiff/internal/agent"
	"github.com/skiff-io/skiff/internal/controllermanager"
	"github.com/skiff-io/skiff/internal/dns"
	"github.com/skiff-io/skiff/internal/ingress"
	"github.com/skiff-io/skiff/internal/proxy"
	"github.com/skiff-io/skiff/internal/scheduler"
	"github.com/skiff-io/skiff/internal/server"
)

// Options configure the components.
type Options struct {
	Controllers controllermanager.Options
	Agent       agent.Options
	DNS         dns.Options
	Ingress     ingress.Options
	Proxy       proxy.Options
}

// All returns the server's components.
func All(opts Options) []server.Component {
	return []server.Component{controllermanager.Component(opts.Controllers), scheduler.Component(), agent.Component(opts.Agent), proxy.Component(opts.Proxy), dns.Component(opts.DNS),
		ingress.Component(opts.Ingress), ingress.StatusComponent(opts.Ingress)}
}
