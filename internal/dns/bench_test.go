package dns

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// BenchmarkResolveServiceA measures the lookup alone over the informer
// store with 1,000 Services.
func BenchmarkResolveServiceA(b *testing.B) {
	svcs := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	if err := svcs.AddIndexers(serviceIndexers()); err != nil {
		b.Fatal(err)
	}
	slices := cache.NewIndexer(cache.MetaNamespaceKeyFunc, sliceIndexers())
	names := make([]string, 1000)
	for i := range names {
		ip := fmt.Sprintf("10.43.%d.%d", 1+i/250, i%250+1)
		if err := svcs.Add(svc(fmt.Sprintf("ns-%d", i%10), fmt.Sprintf("svc-%d", i), []string{ip}, port("http", corev1.ProtocolTCP, 80))); err != nil {
			b.Fatal(err)
		}
		names[i] = fmt.Sprintf("svc-%d.ns-%d.svc.cluster.local.", i, i%10)
	}
	st := &informerStore{services: svcs, slices: slices}
	z := Zone{Domain: "cluster.local", TTL: 5}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := Resolve(st, z, dns.Question{Name: names[i%len(names)], Qtype: dns.TypeA, Qclass: dns.ClassINET})
		if len(a.Answer) != 1 {
			b.Fatalf("answer %v", a)
		}
	}
}
