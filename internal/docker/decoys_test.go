package docker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// decoySet is the objects berth must never touch: made with the plain
// Docker client, some with no labels at all, some with another manager's
// identity, with names that look like berth's.
type decoySet struct {
	containers []string // IDs
	networks   []string // IDs
	volumes    []string // names
	// names for tests that try to remove them.
	unlabelledContainer, foreignContainer string
	unlabelledNetwork, foreignNetwork     string
	foreignVolume                         string
}

func (d *decoySet) create() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	foreign := map[string]string{v1.LabelManagedBy: foreignID, v1.LabelEnvironment: "decoy"}
	// Only to pick free subnets from the test pool; it creates nothing.
	picker, err := New(Config{Host: dockerHost, ManagerID: testID, AddressPool: testAddressPool})
	if err != nil {
		return err
	}
	defer picker.Close()
	d.unlabelledNetwork = "berth-" + testPrefix + "-decoy-net"
	d.foreignNetwork = "berth-" + testPrefix + "-decoy-foreign-net"
	for _, n := range []struct {
		name   string
		labels map[string]string
	}{{d.unlabelledNetwork, nil}, {d.foreignNetwork, foreign}} {
		subnet, release, err := picker.ipamFor(ctx, NetworkSpec{}, nil)
		if err != nil {
			return fmt.Errorf("decoy network %s: %w", n.name, err)
		}
		r, err := raw.NetworkCreate(ctx, n.name, client.NetworkCreateOptions{Driver: "bridge", Labels: n.labels, IPAM: subnet})
		release()
		if err != nil {
			return fmt.Errorf("decoy network %s: %w", n.name, err)
		}
		d.networks = append(d.networks, r.ID)
	}
	d.foreignVolume = "berth-" + testPrefix + "-decoy-vol"
	if _, err := raw.VolumeCreate(ctx, client.VolumeCreateOptions{Name: d.foreignVolume, Labels: foreign}); err != nil {
		return fmt.Errorf("decoy volume: %w", err)
	}
	d.volumes = append(d.volumes, d.foreignVolume)

	d.unlabelledContainer = "berth-" + testPrefix + "-decoy-plain"
	d.foreignContainer = "berth-" + testPrefix + "-decoy-foreign"
	for _, c := range []struct {
		name, network string
		labels        map[string]string
	}{{d.unlabelledContainer, d.unlabelledNetwork, nil}, {d.foreignContainer, d.foreignNetwork, foreign}} {
		r, err := raw.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:       c.name,
			Config:     &container.Config{Image: testImage, Labels: c.labels, Cmd: []string{"--http-port", "0"}},
			HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(c.network), Resources: container.Resources{Memory: 32 << 20}},
		})
		if err != nil {
			return fmt.Errorf("decoy container %s: %w", c.name, err)
		}
		d.containers = append(d.containers, r.ID)
		if _, err := raw.ContainerStart(ctx, r.ID, client.ContainerStartOptions{}); err != nil {
			return fmt.Errorf("start decoy %s: %w", c.name, err)
		}
	}
	return nil
}

// verify checks every decoy still exists and the containers still run.
func (d *decoySet) verify() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var problems []string
	for _, id := range d.containers {
		st, err := rawState(ctx, id)
		if err != nil || st != container.StateRunning {
			problems = append(problems, fmt.Sprintf("container %s: state %q, %v", shortID(id), st, err))
		}
	}
	for _, id := range d.networks {
		if _, err := raw.NetworkInspect(ctx, id, client.NetworkInspectOptions{}); err != nil {
			problems = append(problems, fmt.Sprintf("network %s: %v", shortID(id), err))
		}
	}
	for _, name := range d.volumes {
		if _, err := raw.VolumeInspect(ctx, name, client.VolumeInspectOptions{}); err != nil {
			problems = append(problems, fmt.Sprintf("volume %s: %v", name, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// remove cleans the decoys up at the end, gracefully, with the plain client.
func (d *decoySet) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, id := range d.containers {
		if err := rawStopRemove(ctx, id); err != nil {
			fmt.Printf("removing decoy container %s: %v\n", shortID(id), err)
		}
	}
	for _, id := range d.networks {
		if _, err := raw.NetworkRemove(ctx, id, client.NetworkRemoveOptions{}); err != nil {
			fmt.Printf("removing decoy network %s: %v\n", shortID(id), err)
		}
	}
	for _, name := range d.volumes {
		if _, err := raw.VolumeRemove(ctx, name, client.VolumeRemoveOptions{}); err != nil {
			fmt.Printf("removing decoy volume %s: %v\n", name, err)
		}
	}
}
