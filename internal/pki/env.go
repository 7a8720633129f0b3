package pki

import (
	"net"
	"os"
	"time"
)

// env isolates what Ensure learns from the machine, so tests can pin the
// clock and the host's names.
type env struct {
	now        func() time.Time
	hostname   func() (string, error)
	interfaces func() ([]net.Addr, error)
}

func systemEnv() env {
	return env{now: time.Now, hostname: os.Hostname, interfaces: net.InterfaceAddrs}
}
