package admission

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Meter reads the daemon's memory: what is in use and the total. The
// controller samples it every few seconds; admission stops while use is
// above the pressure threshold.
type Meter interface {
	Memory(ctx context.Context) (Usage, error)
}

// MeterFunc adapts a function to Meter.
type MeterFunc func(ctx context.Context) (Usage, error)

// Memory calls f.
func (f MeterFunc) Memory(ctx context.Context) (Usage, error) { return f(ctx) }

// HostMeminfo reads the host's memory from a meminfo file (/proc/meminfo):
// right when the Docker daemon runs on this host, as it does behind a
// local unix socket on Linux. In use is MemTotal - MemAvailable, the
// figure free(1) shows: page cache the kernel can drop is not pressure.
type HostMeminfo struct {
	Path string
}

// Memory reads and parses the file.
func (h HostMeminfo) Memory(context.Context) (Usage, error) {
	f, err := os.Open(h.Path)
	if err != nil {
		return Usage{}, fmt.Errorf("host memory: %w", err)
	}
	defer f.Close()
	u, err := ParseMeminfo(f)
	if err != nil {
		return Usage{}, fmt.Errorf("host memory from %s: %w", h.Path, err)
	}
	return u, nil
}

// maxMeminfo bounds the read: the real file is a few kilobytes.
const maxMeminfo = 64 << 10

// ParseMeminfo reads MemTotal and MemAvailable (in kB) from meminfo's
// format.
func ParseMeminfo(r io.Reader) (Usage, error) {
	var total, avail int64 = -1, -1
	sc := bufio.NewScanner(io.LimitReader(r, maxMeminfo))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "MemTotal" && key != "MemAvailable") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return Usage{}, fmt.Errorf("%s has no value", key)
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 {
			return Usage{}, fmt.Errorf("%s %q: not a size in kB", key, fields[0])
		}
		if key == "MemTotal" {
			total = kb << 10
		} else {
			avail = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return Usage{}, err
	}
	if total <= 0 || avail < 0 {
		return Usage{}, fmt.Errorf("no MemTotal and MemAvailable")
	}
	return Usage{Used: max(total-avail, 0), Total: total}, nil
}
