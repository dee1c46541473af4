package manager

import (
	"flag"
	"io"
	"log/slog"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// NewLogger returns the manager's root logger: text key/value lines on w
// (the command's stderr) through slog. klog (used by the Kubernetes
// libraries, process-wide) is routed into it so there is one log stream
// with one format.
func NewLogger(w io.Writer, verbosity int) logr.Logger {
	level := slog.Level(-verbosity)
	handler := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	log := logr.FromSlogHandler(handler)

	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	// The apiserver libraries are chatty at info level about things a
	// single-user embedded server does not care about; keep their warnings.
	_ = fs.Set("v", "0")
	klog.SetLogger(log.WithName("k8s").V(1))
	return log
}
