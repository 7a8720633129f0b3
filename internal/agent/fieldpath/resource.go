package fieldpath

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ContainerResource returns the value the downward API gives sel: the named
// request or limit of a container divided by sel.Divisor (1 when unset) and
// rounded up. The container is sel.ContainerName looked up in pod (regular
// containers first, then init containers) or, when sel names none, c. An
// unset or zero cpu, memory or ephemeral-storage limit reads as the pod-level
// limit when the pod sets one and the node has that resource, else as the
// node's allocatable amount (allocatable may be nil: the limit then reads 0).
func ContainerResource(sel *corev1.ResourceFieldSelector, pod *corev1.Pod, c *corev1.Container, allocatable corev1.ResourceList) (string, error) {
	if sel.ContainerName != "" {
		found, err := findContainer(pod, sel.ContainerName)
		if err != nil {
			return "", err
		}
		c = found
	}
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef for %s names no container", sel.Resource)
	}
	limits := DefaultedLimits(pod, c, allocatable)
	divisor := sel.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	q, err := selectedQuantity(sel.Resource, c.Resources.Requests, limits)
	if err != nil {
		return "", err
	}
	return CeilRatio(q, divisor), nil
}

// DefaultedLimits returns a copy of c's limits in which an unset or zero cpu,
// memory or ephemeral-storage limit is replaced by the default the kubelet
// reports through the downward API (see ContainerResource).
func DefaultedLimits(pod *corev1.Pod, c *corev1.Container, allocatable corev1.ResourceList) corev1.ResourceList {
	defaults := allocatable.DeepCopy()
	if pod != nil && pod.Spec.Resources != nil {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			podLimit, ok := pod.Spec.Resources.Limits[name]
			if _, known := defaults[name]; ok && known && !podLimit.IsZero() {
				defaults[name] = podLimit.DeepCopy()
			}
		}
	}
	limits := c.Resources.Limits.DeepCopy()
	if limits == nil {
		limits = corev1.ResourceList{}
	}
	// Hugepages are never overcommitted, so they always have a limit.
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		if q, ok := limits[name]; ok && !q.IsZero() {
			continue
		}
		if d, ok := defaults[name]; ok {
			limits[name] = d.DeepCopy()
		}
	}
	return limits
}

// selectedQuantity picks the quantity a resourceFieldRef resource names.
func selectedQuantity(name string, requests, limits corev1.ResourceList) (resource.Quantity, error) {
	kind, res, ok := strings.Cut(name, ".")
	list := requests
	switch {
	case !ok:
		return resource.Quantity{}, fmt.Errorf("unsupported container resource : %v", name)
	case kind == "limits":
		list = limits
	case kind != "requests":
		return resource.Quantity{}, fmt.Errorf("unsupported container resource : %v", name)
	}
	switch r := corev1.ResourceName(res); {
	case r == corev1.ResourceCPU, r == corev1.ResourceMemory, r == corev1.ResourceEphemeralStorage,
		strings.HasPrefix(res, corev1.ResourceHugePagesPrefix):
		return list[r], nil
	}
	return resource.Quantity{}, fmt.Errorf("unsupported container resource : %v", name)
}

// findContainer finds a container of pod by name, regular containers first.
func findContainer(pod *corev1.Pod, name string) (*corev1.Container, error) {
	if pod != nil {
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == name {
				return &pod.Spec.Containers[i], nil
			}
		}
		for i := range pod.Spec.InitContainers {
			if pod.Spec.InitContainers[i].Name == name {
				return &pod.Spec.InitContainers[i], nil
			}
		}
	}
	return nil, fmt.Errorf("container %s not found", name)
}

// maxInt64Digits is how many decimal digits math.MaxInt64 has.
const maxInt64Digits = 19

// CeilRatio returns ceil(q / divisor) as a decimal string, computed exactly.
// A zero or negative q or divisor gives "0"; a result beyond int64 saturates
// at math.MaxInt64.
func CeilRatio(q, divisor resource.Quantity) string {
	if q.Sign() <= 0 || divisor.Sign() <= 0 {
		return "0"
	}
	qd, dd := q.AsDec(), divisor.AsDec()
	num := new(big.Int).Set(qd.UnscaledBig())
	den := new(big.Int).Set(dd.UnscaledBig())
	// value = unscaled * 10^-scale, so q/d = num/den * 10^(dScale-qScale).
	exp := int64(dd.Scale()) - int64(qd.Scale())
	// Decide from magnitudes before materialising 10^exp, which could be huge.
	magnitude := decimalDigits(num) - decimalDigits(den) + exp
	switch {
	case magnitude > maxInt64Digits+1:
		return strconv.FormatInt(math.MaxInt64, 10)
	case magnitude < -2:
		return "1"
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(absInt64(exp)), nil)
	if exp >= 0 {
		num.Mul(num, scale)
	} else {
		den.Mul(den, scale)
	}
	quo, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Sign() != 0 {
		quo.Add(quo, big.NewInt(1))
	}
	if !quo.IsInt64() {
		return strconv.FormatInt(math.MaxInt64, 10)
	}
	return quo.String()
}

// decimalDigits estimates the number of decimal digits of a positive integer
// from its bit length; the estimate is within one of the truth.
func decimalDigits(v *big.Int) int64 {
	const log10of2 = 0.30102999566398120
	return int64(float64(v.BitLen())*log10of2) + 1
}

func absInt64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
