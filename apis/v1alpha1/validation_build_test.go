package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateBuildAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(s *Service)
	}{
		{"build without image", func(s *Service) { s.Image = ""; s.Build = &Build{Context: "/srv/app"} }},
		{"build and image", func(s *Service) { s.Build = &Build{Context: "/srv/app"} }},
		{"everything", func(s *Service) {
			s.Build = &Build{Context: "/srv/app", Dockerfile: "docker/Dockerfile.prod", Args: map[string]string{"GO_VERSION": "1.26", "_x": ""}, Target: "runtime"}
		}},
		{"dockerfile with dot segments inside", func(s *Service) { s.Build = &Build{Context: "/srv", Dockerfile: "./a/../Dockerfile"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(&env.Spec.Services[0])
			if errs := ValidateEnvironment(env); len(errs) != 0 {
				t.Errorf("unexpected errors:\n%s", dump(errs))
			}
		})
	}
}

func TestValidateBuildRejects(t *testing.T) {
	const (
		required = field.ErrorTypeRequired
		invalid  = field.ErrorTypeInvalid
		tooLong  = field.ErrorTypeTooLong
		tooMany  = field.ErrorTypeTooMany
	)
	p := "spec.services[0]"
	for _, tc := range []struct {
		name   string
		mutate func(s *Service)
		path   string
		typ    field.ErrorType
		detail string
	}{
		{"neither image nor build", func(s *Service) { s.Image = "" }, p + ".image", required, ""},
		{"bad image with build", func(s *Service) { s.Image = "UPPER"; s.Build = &Build{Context: "/x"} }, p + ".image", invalid, ""},
		{"no context", func(s *Service) { s.Build = &Build{} }, p + ".build.context", required, ""},
		{"relative context", func(s *Service) { s.Build = &Build{Context: "./backend"} }, p + ".build.context", invalid, "berth apply -f"},
		{"long context", func(s *Service) { s.Build = &Build{Context: "/" + strings.Repeat("a", MaxBuildPathLength)} }, p + ".build.context", tooLong, ""},
		{"absolute dockerfile", func(s *Service) { s.Build = &Build{Context: "/x", Dockerfile: "/etc/Dockerfile"} }, p + ".build.dockerfile", invalid, "relative"},
		{"dockerfile escapes", func(s *Service) { s.Build = &Build{Context: "/x", Dockerfile: "a/../../Dockerfile"} }, p + ".build.dockerfile", invalid, "inside"},
		{"dockerfile is the context", func(s *Service) { s.Build = &Build{Context: "/x", Dockerfile: "."} }, p + ".build.dockerfile", invalid, ""},
		{"arg name", func(s *Service) { s.Build = &Build{Context: "/x", Args: map[string]string{"A=B": "1"}} }, p + ".build.args[A=B]", invalid, ""},
		{"arg value", func(s *Service) {
			s.Build = &Build{Context: "/x", Args: map[string]string{"A": strings.Repeat("v", MaxBuildArgValueLen+1)}}
		}, p + ".build.args[A]", tooLong, ""},
		{"too many args", func(s *Service) {
			args := map[string]string{}
			for i := 0; i <= MaxBuildArgs; i++ {
				args["A"+strings.Repeat("x", i)] = ""
			}
			s.Build = &Build{Context: "/x", Args: args}
		}, p + ".build.args", tooMany, ""},
		{"target", func(s *Service) { s.Build = &Build{Context: "/x", Target: "a b"} }, p + ".build.target", invalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(&env.Spec.Services[0])
			expectError(t, ValidateEnvironment(env), 1, tc.path, tc.typ, tc.detail)
		})
	}
}
