package plan

import (
	"strings"
	"testing"

	"berth.dev/berth/apis/v1alpha1"
)

// services builds services from "name:dep,dep" strings.
func services(specs ...string) []v1alpha1.Service {
	var out []v1alpha1.Service
	for _, s := range specs {
		name, deps, _ := strings.Cut(s, ":")
		svc := v1alpha1.Service{Name: name}
		for deps != "" {
			var d string
			d, deps, _ = strings.Cut(deps, ",")
			svc.DependsOn = append(svc.DependsOn, v1alpha1.Dependency{Service: d})
		}
		out = append(out, svc)
	}
	return out
}

func TestOrder(t *testing.T) {
	tests := []struct {
		name        string
		specs       []string
		want        []string
		wantReverse []string
		wantErr     bool
	}{
		{"no dependencies keep spec order", []string{"c", "a", "b"}, []string{"c", "a", "b"}, []string{"c", "a", "b"}, false},
		{"demo", []string{"migrate", "db", "api:migrate,db"}, []string{"migrate", "db", "api"}, []string{"api", "migrate", "db"}, false},
		{"dependents listed first", []string{"api:db", "web:api", "db"}, []string{"db", "api", "web"}, []string{"web", "api", "db"}, false},
		{"diamond", []string{"top:l,r", "l:base", "r:base", "base"}, []string{"base", "l", "r", "top"}, []string{"top", "l", "r", "base"}, false},
		{"ties broken by spec order", []string{"x:z", "y", "z"}, []string{"y", "z", "x"}, []string{"x", "y", "z"}, false},
		{"unknown and self dependencies ignored", []string{"a:ghost,a", "b:a"}, []string{"a", "b"}, []string{"b", "a"}, false},
		{"cycle still lists everyone", []string{"ok", "a:b", "b:a"}, []string{"ok", "a", "b"}, []string{"ok", "a", "b"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svcs := services(tt.specs...)
			got, err := Order(svcs)
			if (err != nil) != tt.wantErr {
				t.Errorf("Order error = %v, want error %v", err, tt.wantErr)
			}
			assertStrings(t, "Order", got, tt.want)
			rev, err := ReverseOrder(svcs)
			if (err != nil) != tt.wantErr {
				t.Errorf("ReverseOrder error = %v, want error %v", err, tt.wantErr)
			}
			assertStrings(t, "ReverseOrder", rev, tt.wantReverse)
		})
	}
}
