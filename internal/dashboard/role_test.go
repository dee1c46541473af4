package dashboard

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestReadSampleRole(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "berth_manager_leader", Help: "h"}, []string{"identity", "host"})
	reg.MustRegister(g)
	mfs, _ := reg.Gather()
	if r := readSample(mfs).role; r.Known {
		t.Fatalf("role known without the gauge: %+v", r)
	}
	for _, leader := range []bool{false, true} {
		v := 0.0
		if leader {
			v = 1
		}
		g.WithLabelValues("berth-abc", "web-1").Set(v)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		r := readSample(mfs).role
		if !r.Known || r.Leader != leader || r.Identity != "berth-abc" || r.Host != "web-1" {
			t.Errorf("gauge %v: role %+v", v, r)
		}
	}
}
