package nodeipam

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
)

// ErrCIDRRangeFull is returned when every node CIDR of a cluster CIDR is
// in use.
var ErrCIDRRangeFull = errors.New("no remaining CIDRs in the cluster CIDR")

// maxSubnetBits bounds the number of node subnets of one cluster CIDR
// (2^16), as Kubernetes does.
const maxSubnetBits = 16

// cidrSet hands out the node-sized subnets of one cluster CIDR. It is not
// safe for concurrent use; the controller serialises access.
type cidrSet struct {
	cluster  netip.Prefix
	maskSize int
	count    int      // number of subnets
	used     []uint64 // bitmap of allocated subnets
	inUse    int
	next     int // where the next search starts, so released subnets are reused last
}

// newCIDRSet splits cluster into subnets of maskSize bits.
func newCIDRSet(cluster netip.Prefix, maskSize int) (*cidrSet, error) {
	cluster = cluster.Masked()
	bits := cluster.Addr().BitLen()
	switch {
	case maskSize < cluster.Bits():
		return nil, fmt.Errorf("node CIDR mask size /%d is larger than the cluster CIDR %s", maskSize, cluster)
	case maskSize > bits:
		return nil, fmt.Errorf("node CIDR mask size /%d is invalid for %s", maskSize, cluster)
	case maskSize-cluster.Bits() > maxSubnetBits:
		return nil, fmt.Errorf("cluster CIDR %s and node mask size /%d differ by more than %d bits", cluster, maskSize, maxSubnetBits)
	}
	n := 1 << (maskSize - cluster.Bits())
	return &cidrSet{cluster: cluster, maskSize: maskSize, count: n, used: make([]uint64, (n+63)/64)}, nil
}

func (s *cidrSet) isUsed(i int) bool { return s.used[i/64]&(1<<(i%64)) != 0 }

func (s *cidrSet) set(i int, v bool) {
	if s.isUsed(i) == v {
		return
	}
	if v {
		s.used[i/64] |= 1 << (i % 64)
		s.inUse++
	} else {
		s.used[i/64] &^= 1 << (i % 64)
		s.inUse--
	}
}

// allocate returns a free subnet and marks it used.
func (s *cidrSet) allocate() (netip.Prefix, error) {
	if s.inUse >= s.count {
		return netip.Prefix{}, fmt.Errorf("%s: %w", s.cluster, ErrCIDRRangeFull)
	}
	for k := 0; k < s.count; k++ {
		i := (s.next + k) % s.count
		if !s.isUsed(i) {
			s.set(i, true)
			s.next = (i + 1) % s.count
			return s.subnet(i), nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("%s: %w", s.cluster, ErrCIDRRangeFull)
}

// occupy marks an existing subnet used; ok is false when cidr is not one
// of this set's subnets (another family, or outside the cluster CIDR).
func (s *cidrSet) occupy(cidr netip.Prefix) (ok bool) {
	i, ok := s.index(cidr)
	if ok {
		s.set(i, true)
	}
	return ok
}

// release frees a subnet; CIDRs that are not this set's are ignored.
func (s *cidrSet) release(cidr netip.Prefix) {
	if i, ok := s.index(cidr); ok {
		s.set(i, false)
	}
}

// subnet returns the i-th subnet.
func (s *cidrSet) subnet(i int) netip.Prefix {
	bits := s.cluster.Addr().BitLen()
	base := new(big.Int).SetBytes(s.cluster.Addr().AsSlice())
	off := new(big.Int).Lsh(big.NewInt(int64(i)), uint(bits-s.maskSize))
	b := base.Add(base, off).FillBytes(make([]byte, bits/8))
	addr, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(addr, s.maskSize)
}

// index returns the position of cidr among the subnets.
func (s *cidrSet) index(cidr netip.Prefix) (int, bool) {
	if cidr.Bits() != s.maskSize || cidr.Addr().BitLen() != s.cluster.Addr().BitLen() || !s.cluster.Contains(cidr.Addr()) {
		return 0, false
	}
	bits := s.cluster.Addr().BitLen()
	a := new(big.Int).SetBytes(cidr.Masked().Addr().AsSlice())
	a.Sub(a, new(big.Int).SetBytes(s.cluster.Addr().AsSlice()))
	a.Rsh(a, uint(bits-s.maskSize))
	return int(a.Int64()), true
}

// ParseClusterCIDRs parses a comma-separated --cluster-cidr value: one
// CIDR, or two of different IP families for a dual-stack cluster.
func ParseClusterCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("cluster CIDR %q: %w", part, err)
		}
		out = append(out, p.Masked())
	}
	switch {
	case len(out) == 0:
		return nil, errors.New("cluster CIDR is empty")
	case len(out) > 2:
		return nil, fmt.Errorf("at most two cluster CIDRs (one per IP family) are allowed, got %d", len(out))
	case len(out) == 2 && out[0].Addr().Is4() == out[1].Addr().Is4():
		return nil, fmt.Errorf("cluster CIDRs %s and %s must be of different IP families", out[0], out[1])
	}
	return out, nil
}
