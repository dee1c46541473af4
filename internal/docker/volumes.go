package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// Volume is berth's view of a named volume.
type Volume struct {
	Name        string
	Labels      map[string]string
	Environment string
	ObservedAt  time.Time
}

// VolumeSpec asks for an environment's volume.
type VolumeSpec struct {
	Environment    string
	EnvironmentUID string
	// Volume is the name in the Environment spec; the Docker name is
	// VolumeName(Environment, Volume) unless Name overrides it.
	Volume string
	Name   string
	Labels map[string]string
}

func (s VolumeSpec) name() string {
	if s.Name != "" {
		return s.Name
	}
	return VolumeName(s.Environment, s.Volume)
}

func fromVolume(v volume.Volume, observed time.Time) Volume {
	return Volume{Name: v.Name, Labels: v.Labels, Environment: v.Labels[labelEnvironment], ObservedAt: observed}
}

// InspectVolume reads one volume.
func (c *Client) InspectVolume(ctx context.Context, name string) (Volume, error) {
	var out Volume
	err := c.gov.Do(ctx, governor.Call{Op: "volume_inspect", Lane: governor.LaneRead, Object: name, Idempotent: true}, func(ctx context.Context, _ int) error {
		observed := time.Now()
		r, err := c.api.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
		if err != nil {
			return err
		}
		out = fromVolume(r.Volume, observed)
		return nil
	})
	return out, err
}

// ListVolumes lists every volume carrying this manager's identity.
func (c *Client) ListVolumes(ctx context.Context) ([]Volume, error) {
	var out []Volume
	err := c.gov.Do(ctx, governor.Call{Op: "volume_list", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error {
		observed := time.Now()
		r, err := c.api.VolumeList(ctx, client.VolumeListOptions{Filters: c.ownedFilter()})
		if err != nil {
			return err
		}
		out = out[:0]
		for _, v := range r.Items {
			out = append(out, fromVolume(v, observed))
		}
		return nil
	})
	return out, err
}

// EnsureVolume returns the environment's volume, creating it if needed. A
// volume of that name is only used if it is this manager's and carries the
// same Environment and volume labels: berth will not mount someone else's
// data, nor another Environment's. The UID is not compared: a volume kept
// by spec.teardown.retainVolumes is meant for the next Environment of the
// same name.
func (c *Client) EnsureVolume(ctx context.Context, spec VolumeSpec) (Volume, error) {
	name := spec.name()
	wantVolume := spec.Volume
	if wantVolume == "" {
		wantVolume = spec.Labels[labelVolume]
	}
	check := func(v Volume) error {
		if err := c.attributable("volume_create", "volume", name, v.Labels, spec.Environment, ""); err != nil {
			return err
		}
		if wantVolume != "" && v.Labels[labelVolume] != wantVolume {
			return &Error{Op: "volume_create", Object: name, Kind: ErrConflict,
				Err: fmt.Errorf("name taken by volume %q of Environment %q, not %q", v.Labels[labelVolume], spec.Environment, wantVolume)}
		}
		return nil
	}
	v, err := c.InspectVolume(ctx, name)
	if err == nil {
		if err := check(v); err != nil {
			return Volume{}, err
		}
		return v, nil
	}
	if !IsNotFound(err) {
		return Volume{}, fmt.Errorf("ensure volume %s: %w", name, err)
	}
	labels := c.berthLabels(spec.Labels, spec.Environment, spec.EnvironmentUID)
	if wantVolume != "" {
		labels[labelVolume] = wantVolume
	}
	// Creating a named volume that exists returns the existing one, so a
	// retry is safe; the label check below catches a foreign one.
	err = c.gov.Do(ctx, governor.Call{Op: "volume_create", Lane: governor.LaneWrite, Object: name, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Driver: "local", Labels: labels})
		if err != nil {
			return err
		}
		v = fromVolume(r.Volume, time.Now())
		return nil
	})
	if err != nil {
		return Volume{}, fmt.Errorf("ensure volume %s: %w", name, err)
	}
	if err := check(v); err != nil {
		return Volume{}, err
	}
	return v, nil
}

// RemoveVolume removes an owned volume without force. A volume in use is a
// Conflict for the caller to retry after its containers are gone; a missing
// one is success.
func (c *Client) RemoveVolume(ctx context.Context, name string) error {
	v, err := c.InspectVolume(ctx, name)
	if IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	if err := c.checkOwned("volume_remove", name, v.Labels); err != nil {
		return err
	}
	err = c.gov.Do(ctx, governor.Call{Op: "volume_remove", Lane: governor.LaneWrite, Object: name, Idempotent: true}, func(ctx context.Context, attempt int) error {
		_, err := c.api.VolumeRemove(ctx, name, client.VolumeRemoveOptions{})
		if attempt > 0 && err != nil && isNotFoundErr(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}
