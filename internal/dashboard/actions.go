package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
)

// deleteEnv asks the API to delete the Environment; the controller tears
// it down gracefully and removes its finalizer, and the open pages see
// Terminating and then the row disappear through the watch.
func (s *Server) deleteEnv(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := s.opts.Clientset.BerthV1alpha1().Environments().Delete(r.Context(), name, metav1.DeleteOptions{})
	switch {
	case apierrors.IsNotFound(err):
		http.Error(w, fmt.Sprintf("environment %s does not exist", name), http.StatusNotFound)
		return
	case err != nil:
		s.log.Error(err, "delete from the dashboard failed", "environment", name)
		http.Error(w, fmt.Sprintf("delete environment %s: %v", name, err), http.StatusBadGateway)
		return
	}
	s.log.Info("delete requested from the dashboard", "environment", name)
	w.WriteHeader(http.StatusAccepted)
	_, _ = fmt.Fprintf(w, "deleting %s\n", name)
}

// restartService asks for a graceful recreate of one service's container:
// it sets the service's restart annotation to now, which changes the
// container's spec hash, and the reconciler stops (with the grace period),
// removes and recreates just that container.
func (s *Server) restartService(w http.ResponseWriter, r *http.Request) {
	name, service := r.PathValue("name"), r.PathValue("service")
	env, ok := s.getEnv(name)
	if !ok {
		http.Error(w, fmt.Sprintf("environment %s does not exist", name), http.StatusNotFound)
		return
	}
	if env.DeletionTimestamp != nil {
		http.Error(w, fmt.Sprintf("environment %s is being deleted", name), http.StatusConflict)
		return
	}
	if sb := s.boundStandby(env); sb != nil {
		// The containers are the standby's: so is the restart request.
		env, name = sb, sb.Name
	}
	found := false
	for _, svc := range env.Spec.Services {
		found = found || svc.Name == service
	}
	if !found {
		http.Error(w, fmt.Sprintf("environment %s has no service %s", name, service), http.StatusNotFound)
		return
	}
	at := time.Now().UTC().Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{v1alpha1.RestartAnnotation(service): at}},
	})
	if err != nil {
		http.Error(w, "build patch: "+err.Error(), http.StatusInternalServerError)
		return
	}
	_, err = s.opts.Clientset.BerthV1alpha1().Environments().Patch(r.Context(), name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		s.log.Error(err, "restart from the dashboard failed", "environment", name, "service", service)
		http.Error(w, fmt.Sprintf("restart %s/%s: %v", name, service, err), http.StatusBadGateway)
		return
	}
	s.log.Info("restart requested from the dashboard", "environment", name, "service", service, "at", at)
	w.WriteHeader(http.StatusAccepted)
	_, _ = fmt.Fprintf(w, "restarting %s/%s\n", name, service)
}
