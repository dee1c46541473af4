package apiserver

import (
	"context"
	"fmt"
	"io"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"berth.dev/berth/apis/v1alpha1"
)

// archiveREST serves environments/NAME/archive, berth's counterpart of the
// tar stream `kubectl cp` runs through exec: GET answers a tar stream of
// ?path, PUT unpacks the request body (a tar stream) there. Docker packs
// and unpacks, so it works in images without a tar binary (FROM scratch).
type archiveREST struct {
	store    *genericregistry.Store
	source   ContainerSource
	lifetime context.Context
}

var _ rest.Connecter = &archiveREST{}

func (r *archiveREST) New() runtime.Object { return &v1alpha1.Environment{} }

// Destroy is a no-op: the main resource's store owns the shared storage.
func (r *archiveREST) Destroy() {}

func (r *archiveREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &EnvironmentArchiveOptions{}, false, ""
}

func (r *archiveREST) ConnectMethods() []string { return []string{http.MethodGet, http.MethodPut} }

// ArchiveContentType is the media type of both directions' bodies.
const ArchiveContentType = "application/x-tar"

func (r *archiveREST) Connect(ctx context.Context, name string, options runtime.Object, responder rest.Responder) (http.Handler, error) {
	opts, ok := options.(*EnvironmentArchiveOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %T", options))
	}
	if errs := validateArchiveOptions(opts); len(errs) > 0 {
		return nil, apierrors.NewInvalid(v1alpha1.SchemeGroupVersion.WithKind("EnvironmentArchiveOptions").GroupKind(), name, errs)
	}
	if r.source == nil {
		return nil, apierrors.NewServiceUnavailable("this server has no container source (no Docker layer)")
	}
	env, target, err := resolveTarget(ctx, r.store, name, opts.Service, opts.Replica)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		if r.lifetime != nil {
			defer context.AfterFunc(r.lifetime, cancel)()
		}
		switch req.Method {
		case http.MethodGet:
			rc, err := r.source.ArchiveFrom(ctx, target, opts.Path)
			if err != nil {
				responder.Error(sourceStatus(env, target.Service, err))
				return
			}
			defer rc.Close()
			w.Header().Set("Content-Type", ArchiveContentType)
			w.WriteHeader(http.StatusOK)
			// Past the header only a cut stream can say something went
			// wrong; the client's tar reader sees it as a short archive.
			_, _ = io.Copy(w, rc)
		case http.MethodPut:
			if err := r.source.ArchiveTo(ctx, target, opts.Path, req.Body); err != nil {
				responder.Error(sourceStatus(env, target.Service, err))
				return
			}
			responder.Object(http.StatusOK, &metav1.Status{Status: metav1.StatusSuccess,
				Message: fmt.Sprintf("copied to %s:%s", target.Service, opts.Path)})
		default:
			responder.Error(apierrors.NewMethodNotSupported(v1alpha1.GroupResource, req.Method))
		}
	}), nil
}
