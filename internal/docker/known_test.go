package docker

import (
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

func TestStartFactsRemembered(t *testing.T) {
	c := &Client{}
	id := func(b byte) string {
		s := make([]byte, 64)
		for i := range s {
			s[i] = b
		}
		return string(s)
	}
	img := "berth-testapp:dev"
	// The image's healthcheck is not known yet: inspect after start.
	c.rememberCreated(id('a'), ContainerSpec{Image: img})
	if _, ok := c.StartFacts(id('a')); ok {
		t.Error("remembered a start while the image's healthcheck was unknown")
	}
	c.known.setImageHealth(img, true)
	c.rememberCreated(id('b'), ContainerSpec{Image: img})
	if f, ok := c.StartFacts(id('b')); !ok || !f.Healthcheck {
		t.Errorf("image with a HEALTHCHECK: %+v %v, want a healthcheck", f, ok)
	}
	c.rememberCreated(id('c'), ContainerSpec{Image: img, Healthcheck: &HealthcheckSpec{Test: []string{"NONE"}}})
	if f, ok := c.StartFacts(id('c')); !ok || f.Healthcheck {
		t.Errorf("spec turns the healthcheck off: %+v %v", f, ok)
	}
	c.rememberCreated(id('d'), ContainerSpec{Image: img, Ports: []PortSpec{{ContainerPort: 80}}})
	if _, ok := c.StartFacts(id('d')); ok {
		t.Error("remembered a start that assigns host ports")
	}
	c.rememberCreated("short", ContainerSpec{Image: img, Healthcheck: &HealthcheckSpec{Test: []string{"CMD", "x"}}})
	if _, ok := c.StartFacts("short"); ok {
		t.Error("remembered a start under a name, not a full ID")
	}
	c.known.forgetImage(img) // a pull or build of the reference
	c.rememberCreated(id('e'), ContainerSpec{Image: img})
	if _, ok := c.StartFacts(id('e')); ok {
		t.Error("used an image's healthcheck after the reference was pulled again")
	}
	c.Forget(id('b'))
	if _, ok := c.StartFacts(id('b')); ok {
		t.Error("Forget kept the facts")
	}
}

func TestImageHealthcheck(t *testing.T) {
	for _, tc := range []struct {
		cfg  *dockerspec.DockerOCIImageConfig
		want bool
	}{
		{nil, false},
		{&dockerspec.DockerOCIImageConfig{}, false},
		{withHealthcheck("NONE"), false},
		{withHealthcheck("CMD", "true"), true},
	} {
		if got := imageHealthcheck(tc.cfg); got != tc.want {
			t.Errorf("imageHealthcheck(%+v) = %v, want %v", tc.cfg, got, tc.want)
		}
	}
}

func withHealthcheck(test ...string) *dockerspec.DockerOCIImageConfig {
	cfg := &dockerspec.DockerOCIImageConfig{}
	cfg.Healthcheck = &dockerspec.HealthcheckConfig{Test: test}
	return cfg
}
