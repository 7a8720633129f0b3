package storage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ListOptions selects what List returns, with Kubernetes' semantics for
// resourceVersion, resourceVersionMatch, limit and continue.
type ListOptions struct {
	Namespace            string // "" lists every namespace
	Predicate            Predicate
	ResourceVersion      string
	ResourceVersionMatch metav1.ResourceVersionMatch
	Limit                int64
	Continue             string
}

// ListResult is one page of a list.
type ListResult struct {
	// Items are shared with the cache: callers must not modify them.
	Items              []runtime.Object
	ResourceVersion    int64
	Continue           string
	RemainingItemCount *int64
}

// tooLargeWait bounds how long a list or watch waits for the cache to reach
// a resourceVersion the client has seen elsewhere.
const tooLargeWait = 3 * time.Second

// List returns the objects selected by opts. Unpaginated lists are served
// from the cache; paginated and exact-revision lists read etcd at one
// revision so that every page is consistent.
func (r *Resource) List(ctx context.Context, opts ListOptions) (*ListResult, error) {
	if err := validateListOptions(opts); err != nil {
		return nil, err
	}
	rv, err := ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	exact := opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact
	paged := opts.Continue != "" || (opts.Limit > 0 && opts.ResourceVersion != "0")
	if exact || paged {
		return r.listFromEtcd(ctx, opts, rv)
	}
	switch {
	case opts.ResourceVersion == "":
		if err := r.s.waitFresh(ctx); err != nil {
			return nil, waitError(err, rv)
		}
	case rv > 0:
		if err := r.s.waitFor(ctx, rv, tooLargeWait); err != nil {
			return nil, waitError(err, rv)
		}
	}
	r.mu.RLock()
	nsPrefix := r.namespacePrefix(opts.Namespace)
	if err := r.unreadableUnder(nsPrefix); err != nil {
		r.mu.RUnlock()
		return nil, err
	}
	items := r.snapshot(nsPrefix, opts.Predicate)
	listRV := r.s.Revision()
	r.mu.RUnlock()
	return &ListResult{Items: items, ResourceVersion: listRV}, nil
}

func (r *Resource) namespacePrefix(ns string) string {
	if ns == "" || !r.cfg.Namespaced {
		return ""
	}
	return ns + "/"
}

func validateListOptions(opts ListOptions) error {
	match := opts.ResourceVersionMatch
	path := field.NewPath("resourceVersionMatch")
	var errs field.ErrorList
	switch {
	case match != "" && match != metav1.ResourceVersionMatchExact && match != metav1.ResourceVersionMatchNotOlderThan:
		errs = append(errs, field.NotSupported(path, match, []string{string(metav1.ResourceVersionMatchExact), string(metav1.ResourceVersionMatchNotOlderThan), ""}))
	case match != "" && opts.Continue != "":
		errs = append(errs, field.Forbidden(path, "resourceVersionMatch is forbidden when continue is provided"))
	case match != "" && opts.ResourceVersion == "":
		errs = append(errs, field.Forbidden(path, "resourceVersionMatch is forbidden unless resourceVersion is provided"))
	case match == metav1.ResourceVersionMatchExact && opts.ResourceVersion == "0":
		errs = append(errs, field.Forbidden(path, "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""))
	}
	if opts.Limit < 0 {
		errs = append(errs, field.Invalid(field.NewPath("limit"), opts.Limit, "must be greater than or equal to 0"))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(listOptionsKind, "", errs)
	}
	if opts.Continue != "" && opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
		return apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
	}
	return nil
}

// listOptionsKind names ListOptions in validation errors.
var listOptionsKind = schema.GroupKind{Group: metav1.GroupName, Kind: "ListOptions"}

func waitError(err error, rv int64) error {
	if errors.Is(err, errTooLarge) {
		return tooLargeResourceVersion(rv)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return apierrors.NewTimeoutError("waiting for the cache", 1)
	}
	return err
}

// tooLargeResourceVersion is Kubernetes' answer to a resourceVersion the
// server has not reached in time: 504 with a ResourceVersionTooLarge cause,
// which clients retry.
func tooLargeResourceVersion(rv int64) error {
	err := apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %d", rv), 1)
	err.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: metav1.CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}}
	return err
}

// continueToken is the opaque state of a paginated list.
type continueToken struct {
	Version string `json:"v"`
	RV      int64  `json:"rv"`
	Start   string `json:"start"` // next key below the resource prefix
}

const continueVersion = "skiff/v1"

func encodeContinue(rv int64, start string) string {
	b, _ := json.Marshal(continueToken{Version: continueVersion, RV: rv, Start: start})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err == nil && (t.Version != continueVersion || t.RV <= 0) {
		err = errors.New("unsupported token")
	}
	if err != nil {
		return t, apierrors.NewBadRequest(fmt.Sprintf("continue key is not valid: %v", err))
	}
	return t, nil
}

const continueExpired = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."

// listFromEtcd reads one page (or, without a limit, everything) at a single
// revision, skipping objects the predicate rejects.
func (r *Resource) listFromEtcd(ctx context.Context, opts ListOptions, rv int64) (*ListResult, error) {
	nsPrefix := r.namespacePrefix(opts.Namespace)
	start := r.prefix + nsPrefix
	end := clientv3.GetPrefixRangeEnd(start)
	var readRev int64
	if opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact {
		readRev = rv
	}
	if opts.Continue != "" {
		tok, err := decodeContinue(opts.Continue)
		if err != nil {
			return nil, err
		}
		if tok.Start < nsPrefix {
			return nil, apierrors.NewBadRequest("continue key is not valid: it belongs to another list")
		}
		readRev, start = tok.RV, r.prefix+tok.Start
	}
	if readRev == 0 && rv > 0 {
		// NotOlderThan with a limit: the newest data satisfies it.
		if err := r.s.waitFor(ctx, rv, tooLargeWait); err != nil {
			return nil, waitError(err, rv)
		}
	}
	out := &ListResult{}
	batch := opts.Limit
	if batch <= 0 || batch > 10000 {
		batch = 10000
	}
	for {
		getOpts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(batch + 1)}
		if readRev > 0 {
			getOpts = append(getOpts, clientv3.WithRev(readRev))
		}
		resp, err := r.s.client.Get(ctx, start, getOpts...)
		if err != nil {
			if opts.Continue != "" && isCompacted(err) {
				return nil, apierrors.NewResourceExpired(continueExpired)
			}
			if isCompacted(err) {
				return nil, apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", readRev, r.s.Revision()))
			}
			return nil, storageError(err)
		}
		if readRev == 0 {
			readRev = resp.Header.Revision
		}
		kvs := resp.Kvs
		for i, kv := range kvs {
			if int64(i) == batch {
				break
			}
			obj, err := r.decode(kv)
			if err != nil {
				return nil, err
			}
			if !opts.Predicate.Matches(obj) {
				continue
			}
			out.Items = append(out.Items, obj)
			if opts.Limit > 0 && int64(len(out.Items)) == opts.Limit {
				next := string(kv.Key[len(r.prefix):]) + "\x00"
				if i+1 < len(kvs) || resp.More {
					out.Continue = encodeContinue(readRev, next)
					if opts.Predicate.Empty() {
						n := resp.Count - int64(i) - 1
						out.RemainingItemCount = &n
					}
				}
				out.ResourceVersion = readRev
				return out, nil
			}
		}
		if int64(len(kvs)) <= batch {
			out.ResourceVersion = readRev
			return out, nil
		}
		start = string(kvs[batch-1].Key) + "\x00"
	}
}

func isCompacted(err error) bool { return errors.Is(err, rpctypes.ErrCompacted) }

// FormatResourceVersion renders a revision as a resourceVersion string.
func FormatResourceVersion(rev int64) string { return strconv.FormatInt(rev, 10) }
