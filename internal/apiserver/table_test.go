package apiserver

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// -o wide shows why an Environment is not Ready: the Ready condition's
// reason and message, and nothing once it is Ready.
func TestEnvironmentTableReasonAndMessage(t *testing.T) {
	stuck := v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "stuck"}}
	stuck.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: "NetworkCreateFailed", Message: "create network berth_stuck failed once: no free /24"}}
	fine := v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "fine"}}
	fine.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "AllServicesReady", Message: "1/1 services ready"}}
	table, err := environmentTable{}.ConvertToTable(context.Background(), &v1alpha1.EnvironmentList{Items: []v1alpha1.Environment{stuck, fine}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range table.ColumnDefinitions {
		col[c.Name] = i
		if (c.Name == "Reason" || c.Name == "Message") && c.Priority != 1 {
			t.Errorf("column %s has priority %d, want 1 (-o wide)", c.Name, c.Priority)
		}
	}
	if col["Reason"] != col["Message"]-1 {
		t.Fatalf("want Reason right before Message: %v", col)
	}
	for i, want := range [][2]string{{"NetworkCreateFailed", "create network berth_stuck failed once: no free /24"}, {"", ""}} {
		cells := table.Rows[i].Cells
		if len(cells) != len(table.ColumnDefinitions) {
			t.Fatalf("row %d has %d cells for %d columns", i, len(cells), len(table.ColumnDefinitions))
		}
		if cells[col["Reason"]] != want[0] || cells[col["Message"]] != want[1] {
			t.Errorf("row %d: reason %q message %q, want %q %q", i, cells[col["Reason"]], cells[col["Message"]], want[0], want[1])
		}
	}
}
