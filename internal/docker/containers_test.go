package docker

import (
	"testing"

	v1 "berth.dev/berth/apis/v1alpha1"
)

func TestExitCodeFromStatus(t *testing.T) {
	for status, want := range map[string]int{"Exited (0) 2 seconds ago": 0, "Exited (137) About a minute ago": 137, "Exited (-1) 1 hour ago": -1} {
		c := Container{status: status}
		if got, ok := c.ListedExitCode(); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", status, got, ok, want)
		}
	}
	if _, ok := (&Container{status: "Up 3 minutes"}).ListedExitCode(); ok {
		t.Error("a running container's status parsed as an exit code")
	}
}

func TestNamesAndOwnership(t *testing.T) {
	if NetworkName("e") != "berth_e" || ContainerName("e", "s") != "berth_e_s" || VolumeName("e", "v") != "berth_e_v" {
		t.Fatal("deterministic names changed")
	}
	if Owned(nil, "x") || Owned(map[string]string{v1.LabelManagedBy: "y"}, "x") || Owned(map[string]string{v1.LabelManagedBy: ""}, "") {
		t.Fatal("ownership granted without this manager's identity")
	}
	if !Owned(map[string]string{v1.LabelManagedBy: "x"}, "x") {
		t.Fatal("own object not recognised")
	}
}
