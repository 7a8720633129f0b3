package audit

import (
	"context"
	"maps"
	"sync"

	"github.com/skiff-io/skiff/internal/auth/user"
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// record is the audit state of one request that is being recorded. Inner
// filters and handlers reach it through the context; the lock is there
// because long-running handlers may annotate from other goroutines while
// the filter emits a stage.
type record struct {
	cfg  RequestConfig
	sink Sink

	mu          sync.Mutex
	ev          Event
	annotations map[string]string
}

type recordKey struct{}

func withRecord(ctx context.Context, rec *record) context.Context {
	return context.WithValue(ctx, recordKey{}, rec)
}

func recordFrom(ctx context.Context) *record {
	rec, _ := ctx.Value(recordKey{}).(*record)
	return rec
}

// AddAnnotation adds key=value to the request's audit events (those not
// yet emitted). The first value set for a key wins, so a later filter
// cannot overwrite, say, the authorization decision. A no-op when the
// request is not being audited.
func AddAnnotation(ctx context.Context, key, value string) {
	rec := recordFrom(ctx)
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if _, ok := rec.annotations[key]; ok {
		return
	}
	if rec.annotations == nil {
		rec.annotations = map[string]string{}
	}
	rec.annotations[key] = value
}

// SetImpersonatedUser records whom the authenticated user acts as; the
// impersonation filter calls it once it has checked the user may. A no-op
// when the request is not being audited.
func SetImpersonatedUser(ctx context.Context, u *user.Info) {
	rec := recordFrom(ctx)
	if rec == nil || u == nil {
		return
	}
	info := userInfo(u)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.ev.ImpersonatedUser = &info
}

// emit sends the event of stage unless the policy omits it. update, when
// not nil, changes the event under the lock first (status, bodies).
func (rec *record) emit(stage Stage, now metav1.MicroTime, update func(ev *Event)) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if update != nil {
		update(&rec.ev)
	}
	if !rec.cfg.Records(stage) {
		return
	}
	rec.ev.Stage = stage
	rec.ev.StageTimestamp = now
	rec.ev.Annotations = maps.Clone(rec.annotations)
	// The sink does not keep the event (see Sink), so the lock is only held
	// for as long as it takes to queue it.
	rec.sink.Process(&rec.ev)
}

func userInfo(u *user.Info) authnv1.UserInfo {
	info := authnv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		info.Extra = make(map[string]authnv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			info.Extra[k] = v
		}
	}
	return info
}
