package prober

import (
	"net"
	"syscall"
	"time"
)

// probeDialer returns a dialer whose sockets close with a one-second linger,
// so frequent probes do not pile up connections in TIME_WAIT (the kubelet
// dials probes the same way).
func probeDialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout: timeout,
		Control: func(_, _ string, c syscall.RawConn) error {
			var sockErr error
			err := c.Control(func(fd uintptr) {
				sockErr = syscall.SetsockoptLinger(int(fd), syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 1})
			})
			if err != nil {
				return err
			}
			return sockErr
		},
	}
}
