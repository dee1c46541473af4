package apiserver

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	"berth.dev/berth/apis/v1alpha1"
)

// environmentTable renders Environments as the columns `get` prints:
// NAME, PHASE, READY, AGE (and SERVICES, REASON, MESSAGE, HOLDER, HOST with
// -o wide).
type environmentTable struct{}

var environmentColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name of the Environment"},
	{Name: "Phase", Type: "string", Description: "Pending, Queued, Progressing, Ready, Degraded, Failed or Terminating"},
	{Name: "Ready", Type: "string", Description: "Ready services out of all services"},
	{Name: "Age", Type: "string", Description: "Time since creation"},
	{Name: "Services", Type: "string", Priority: 1, Description: "Service names"},
	{Name: "Reason", Type: "string", Priority: 1, Description: "The Ready condition's reason when it is not True (e.g. NetworkCreateFailed, ImagePullFailed)"},
	{Name: "Message", Type: "string", Priority: 1, Description: "Why the Environment is not Ready"},
	{Name: "Holder", Type: "string", Priority: 1, Description: "Who holds the Environment's lease (spec.lease.holderIdentity)"},
	{Name: "Host", Type: "string", Priority: 1, Description: "The Docker host the Environment is bound to (status.host)"},
}

func (environmentTable) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	table := newTable(environmentColumns, obj)

	var envs []v1alpha1.Environment
	switch o := obj.(type) {
	case *v1alpha1.Environment:
		envs = []v1alpha1.Environment{*o}
	case *v1alpha1.EnvironmentList:
		envs = o.Items
	default:
		return nil, fmt.Errorf("cannot render %T as a table", obj)
	}
	now := time.Now()
	for i := range envs {
		env := &envs[i]
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells: []interface{}{
				env.Name,
				phaseOf(env),
				readyOf(env),
				duration.HumanDuration(now.Sub(env.CreationTimestamp.Time)),
				serviceNames(env),
				notReadyReason(env),
				notReadyMessage(env),
				holderOf(env),
				hostOf(env),
			},
			Object: runtime.RawExtension{Object: env},
		})
	}
	return table, nil
}

func phaseOf(env *v1alpha1.Environment) string {
	if env.DeletionTimestamp != nil && env.Status.Phase != v1alpha1.PhaseTerminating {
		return string(v1alpha1.PhaseTerminating)
	}
	if env.Status.Phase == "" {
		return string(v1alpha1.PhasePending)
	}
	return string(env.Status.Phase)
}

func readyOf(env *v1alpha1.Environment) string {
	if env.Status.Ready != "" {
		return env.Status.Ready
	}
	return fmt.Sprintf("0/%d", len(env.Spec.Services))
}

func serviceNames(env *v1alpha1.Environment) string {
	s := ""
	for i, svc := range env.Spec.Services {
		if i > 0 {
			s += ","
		}
		s += svc.Name
	}
	return s
}

func notReadyReason(env *v1alpha1.Environment) string {
	if c := meta.FindStatusCondition(env.Status.Conditions, v1alpha1.ConditionReady); c != nil && c.Status != metav1.ConditionTrue {
		return c.Reason
	}
	return ""
}

func notReadyMessage(env *v1alpha1.Environment) string {
	// A queued Environment waits for admission: its Admitted condition
	// says for what (needs, free, place in the queue).
	if c := meta.FindStatusCondition(env.Status.Conditions, v1alpha1.ConditionAdmitted); c != nil && c.Status != metav1.ConditionTrue {
		return c.Reason + ": " + c.Message
	}
	if c := meta.FindStatusCondition(env.Status.Conditions, v1alpha1.ConditionReady); c != nil && c.Status != metav1.ConditionTrue {
		return c.Message
	}
	return ""
}

// holderOf is the lease holder, "<none>" when nothing holds the Environment.
func holderOf(env *v1alpha1.Environment) string {
	if env.Spec.Lease == nil {
		return "<none>"
	}
	return env.Spec.Lease.HolderIdentity
}

// hostOf is the bound host, "<none>" before placement.
func hostOf(env *v1alpha1.Environment) string {
	if env.Status.Host == "" {
		return "<none>"
	}
	return env.Status.Host
}

// newTable is a table of columns carrying obj's list metadata (resource
// version, continue token, remaining count), as kubectl's paging needs.
func newTable(columns []metav1.TableColumnDefinition, obj runtime.Object) *metav1.Table {
	table := &metav1.Table{ColumnDefinitions: columns}
	if m, err := meta.ListAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
		table.Continue = m.GetContinue()
		table.RemainingItemCount = m.GetRemainingItemCount()
	} else if m, err := meta.CommonAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
	return table
}
