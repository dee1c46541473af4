package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"k8s.io/client-go/rest"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/tarcopy"
)

// CopyTarget names a container of an Environment for a copy.
type CopyTarget struct {
	Namespace   string // must be "": Environments are cluster-scoped
	Environment string
	Service     string // "" when the Environment has one service
	Replica     *int32
}

// CopyTo copies localPath (a file or a directory tree, modes kept,
// symlinks as links) into a service's container at containerPath: into it
// when it is an existing directory, else as it, like `docker cp`.
func CopyTo(ctx context.Context, cfg *rest.Config, namespace, env, service, localPath, containerPath string) error {
	return CopyToTarget(ctx, cfg, CopyTarget{Namespace: namespace, Environment: env, Service: service}, localPath, containerPath)
}

// CopyFrom copies containerPath out of a service's container to
// localPath: into it when it is an existing directory, else as it. The
// archive is treated as hostile: nothing is written outside the target.
func CopyFrom(ctx context.Context, cfg *rest.Config, namespace, env, service, containerPath, localPath string) error {
	return CopyFromTarget(ctx, cfg, CopyTarget{Namespace: namespace, Environment: env, Service: service}, containerPath, localPath)
}

// CopyToTarget is CopyTo with a replica choice.
func CopyToTarget(ctx context.Context, cfg *rest.Config, t CopyTarget, localPath, containerPath string) error {
	abs, err := filepath.Abs(localPath)
	if err != nil {
		return fmt.Errorf("copy %s: %w", localPath, err)
	}
	if _, err := os.Lstat(abs); err != nil {
		return fmt.Errorf("copy %s: %w", localPath, err)
	}
	base := filepath.Base(abs)
	if !tarcopy.ValidBase(base) {
		return fmt.Errorf("copy %s: cannot copy the root directory itself; name a directory under it", localPath)
	}
	req, err := archiveRequest(cfg, t, "PUT", containerPath)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarcopy.Pack(pw, abs, base)) }()
	defer pr.Close()
	res := req.SetHeader("Content-Type", "application/x-tar").Body(pr).Do(ctx)
	if err := res.Error(); err != nil {
		return fmt.Errorf("copy %s to %s:%s: %w", localPath, t.Environment, containerPath, Explain(cfg, "archive", err))
	}
	return nil
}

// CopyFromTarget is CopyFrom with a replica choice.
func CopyFromTarget(ctx context.Context, cfg *rest.Config, t CopyTarget, containerPath, localPath string) error {
	if path.Clean(containerPath) == "/" {
		// Docker names that archive's top entry "/", which no safe
		// extraction can take as a name.
		return fmt.Errorf("copy %s:%s: cannot copy the container's root directory itself; name a directory under it", t.Environment, containerPath)
	}
	dir, as, err := localDestination(localPath)
	if err != nil {
		return err
	}
	req, err := archiveRequest(cfg, t, "GET", containerPath)
	if err != nil {
		return err
	}
	rc, err := req.Stream(ctx)
	if err != nil {
		return fmt.Errorf("copy %s:%s: %w", t.Environment, containerPath, Explain(cfg, "archive", err))
	}
	defer rc.Close()
	if _, err := tarcopy.Extract(rc, dir, as); err != nil {
		return fmt.Errorf("copy %s:%s to %s: %w", t.Environment, containerPath, localPath, err)
	}
	return nil
}

// localDestination decides where a copy lands: into localPath when it is
// an existing directory (under the source's own name), else as localPath
// in its parent directory, which must exist.
func localDestination(localPath string) (dir, as string, err error) {
	abs, err := filepath.Abs(localPath)
	if err != nil {
		return "", "", fmt.Errorf("copy to %s: %w", localPath, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case err == nil && fi.IsDir():
		return abs, "", nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("copy to %s: %w", localPath, err)
	}
	parent := filepath.Dir(abs)
	if pfi, err := os.Stat(parent); err != nil || !pfi.IsDir() {
		return "", "", fmt.Errorf("copy to %s: directory %s does not exist", localPath, parent)
	}
	return parent, filepath.Base(abs), nil
}

func archiveRequest(cfg *rest.Config, t CopyTarget, verb, containerPath string) (*rest.Request, error) {
	if t.Namespace != "" {
		return nil, fmt.Errorf("copy: namespace %q: Environments are cluster-scoped, leave it empty", t.Namespace)
	}
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("copy: client: %w", err)
	}
	req := cs.BerthV1alpha1().RESTClient().Verb(verb).
		Resource(v1alpha1.EnvironmentsResource).Name(t.Environment).SubResource("archive").
		Param("path", containerPath)
	if t.Service != "" {
		req.Param("service", t.Service)
	}
	if t.Replica != nil {
		req.Param("replica", strconv.Itoa(int(*t.Replica)))
	}
	return req, nil
}
