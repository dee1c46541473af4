package dockertest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/moby/moby/client"
)

// LoadImages copies images from the main daemon into this one, as
// `docker save refs | docker -H <this> load` does: one save stream piped
// straight into the load, no file in between. The second daemon cannot
// pull (no registry is reachable here), so a spec loads every image its
// Environments use first. Each ref must exist on the main daemon; the error
// names the first that does not.
func (d *Daemon) LoadImages(ctx context.Context, refs ...string) error {
	if len(refs) == 0 {
		return nil
	}
	for _, ref := range refs {
		if _, err := d.Main.ImageInspect(ctx, ref); err != nil {
			return fmt.Errorf("dockertest: image %s on the main daemon: %w", ref, err)
		}
	}
	saved, err := d.Main.ImageSave(ctx, refs)
	if err != nil {
		return fmt.Errorf("dockertest: save %v from the main daemon: %w", refs, err)
	}
	defer saved.Close()
	loaded, err := d.Client.ImageLoad(ctx, saved, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("dockertest: load %v into %s: %w", refs, d.Host, err)
	}
	defer loaded.Close()
	if err := loadErrors(loaded); err != nil {
		return fmt.Errorf("dockertest: load %v into %s: %w", refs, d.Host, err)
	}
	for _, ref := range refs {
		if _, err := d.Client.ImageInspect(ctx, ref); err != nil {
			return fmt.Errorf("dockertest: %s missing on %s after the load: %w", ref, d.Host, err)
		}
	}
	return nil
}

// loadErrors reads the load's JSON message stream to its end and returns
// the errors it reports.
func loadErrors(r io.Reader) error {
	var errs []error
	dec := json.NewDecoder(bufio.NewReader(r))
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		err := dec.Decode(&msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read load response: %w", err)
		}
		if msg.Error != "" {
			errs = append(errs, errors.New(strings.TrimSpace(msg.Error)))
		} else if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			errs = append(errs, errors.New(msg.ErrorDetail.Message))
		}
	}
	return errors.Join(errs...)
}
