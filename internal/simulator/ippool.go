package simulator

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
)

// errPoolFull is returned when a node's pod range has no free address.
var errPoolFull = errors.New("no free pod IP")

// maxScan bounds the search of one range (an IPv6 /64 is not walked).
const maxScan = 1 << 16

// ipPool hands out pod IPs of one node. Callers hold the node's mutex.
type ipPool struct {
	byPod  map[string]podIPs     // pod key -> its addresses
	owner  map[netip.Addr]string // address -> pod key
	cursor map[netip.Prefix]int  // where the next search in a range starts
}

type podIPs struct {
	uid   string
	addrs []netip.Addr
}

func (p *ipPool) init() {
	if p.byPod == nil {
		p.byPod, p.owner, p.cursor = map[string]podIPs{}, map[netip.Addr]string{}, map[netip.Prefix]int{}
	}
}

// lookup returns the addresses assigned to a pod (key and uid).
func (p *ipPool) lookup(key, uid string) ([]netip.Addr, bool) {
	p.init()
	got, ok := p.byPod[key]
	if !ok || got.uid != uid {
		return nil, false
	}
	return got.addrs, true
}

// record notes addresses a pod already has (seen in its status).
func (p *ipPool) record(key, uid string, addrs []netip.Addr) {
	p.init()
	p.release(key)
	p.byPod[key] = podIPs{uid: uid, addrs: addrs}
	for _, a := range addrs {
		p.owner[a] = key
	}
}

// assign gives a pod one free address from each range.
func (p *ipPool) assign(key, uid string, ranges []netip.Prefix) ([]netip.Addr, error) {
	p.init()
	if got, ok := p.lookup(key, uid); ok {
		return got, nil
	}
	p.release(key)
	var addrs []netip.Addr
	for _, r := range ranges {
		a, err := p.free(r)
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, a)
		p.owner[a] = key // reserve now, so the next range cannot clash
	}
	p.byPod[key] = podIPs{uid: uid, addrs: addrs}
	return addrs, nil
}

// release frees a pod's addresses.
func (p *ipPool) release(key string) {
	p.init()
	for _, a := range p.byPod[key].addrs {
		if p.owner[a] == key {
			delete(p.owner, a)
		}
	}
	delete(p.byPod, key)
}

// free finds an unused host address of r, skipping the network address,
// the first host (the node's gateway) and, for IPv4, the broadcast.
func (p *ipPool) free(r netip.Prefix) (netip.Addr, error) {
	r = r.Masked()
	hostBits := r.Addr().BitLen() - r.Bits()
	size := maxScan
	if hostBits < 17 {
		size = 1 << hostBits
	}
	first, last := 2, size-1 // usable offsets [first, last)
	if r.Addr().Is6() {
		last = size
	}
	n := last - first
	if n <= 0 {
		return netip.Addr{}, fmt.Errorf("pod range %s is too small: %w", r, errPoolFull)
	}
	start := p.cursor[r]
	for k := 0; k < n; k++ {
		off := first + (start+k)%n
		a := addrAt(r, off)
		if _, used := p.owner[a]; !used {
			p.cursor[r] = (start + k + 1) % n
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("pod range %s: %w", r, errPoolFull)
}

// addrAt is the address at offset off inside r.
func addrAt(r netip.Prefix, off int) netip.Addr {
	if r.Addr().Is4() {
		b := r.Addr().As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		v += uint32(off)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	v := new(big.Int).SetBytes(r.Addr().AsSlice())
	v.Add(v, big.NewInt(int64(off)))
	a, _ := netip.AddrFromSlice(v.FillBytes(make([]byte, 16)))
	return a
}
