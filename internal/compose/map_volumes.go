package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	units "github.com/docker/go-units"
	"k8s.io/utils/ptr"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/dnsname"
)

// volumeSet is spec.volumes as the services' mounts need them: the
// project's named volumes, then a hostPath volume per bind-mounted host
// path and an emptyDir volume per tmpfs, named after what they hold.
type volumeSet struct {
	named   []v1alpha1.Volume
	derived []v1alpha1.Volume
	byKey   map[string]string // bind host path or tmpfs key → volume name
	taken   map[string]bool
	names   *names
	r       *refusals
	// dir is the project directory: a bind source under it is named by
	// its relative path, so a checkout elsewhere converts to the same
	// volume names (and spec hashes).
	dir string
}

func newVolumeSet(p *types.Project, n *names, r *refusals) *volumeSet {
	vs := &volumeSet{byKey: map[string]string{}, taken: map[string]bool{}, names: n, r: r, dir: p.WorkingDir}
	for _, name := range sortedKeys(p.Volumes) {
		v := p.Volumes[name]
		if v.Driver != "" && v.Driver != "local" {
			r.add("volumes."+name+".driver", "%q: berth's volumes use the local driver", v.Driver)
		}
		b := of(n.volumes, name)
		vs.named = append(vs.named, v1alpha1.Volume{Name: b})
		vs.taken[b] = true
	}
	return vs
}

func (vs *volumeSet) list() []v1alpha1.Volume {
	return append(append([]v1alpha1.Volume(nil), vs.named...), vs.derived...)
}

// add returns the derived volume for key, creating it with a name made of
// prefix, hint and a hash of key.
func (vs *volumeSet) add(key, prefix, hint string, v v1alpha1.Volume) string {
	if name, ok := vs.byKey[key]; ok {
		return name
	}
	sum := sha256.Sum256([]byte(key))
	name := prefix + "-"
	if h := dnsname.Part(hint, 20); h != "" {
		name += h + "-"
	}
	name += hex.EncodeToString(sum[:4])
	for i := 2; vs.taken[name]; i++ {
		name = fmt.Sprintf("%s-%d", strings.TrimSuffix(name, fmt.Sprintf("-%d", i-1)), i)
	}
	v.Name = name
	vs.taken[name] = true
	vs.byKey[key] = name
	vs.derived = append(vs.derived, v)
	return name
}

// defaultTmpfsBytes bounds a tmpfs without a size in a service without a
// memory limit: 512Mi, the manager's documented --default-memory-limit
// (the converter does not know the flags of the manager it feeds).
const defaultTmpfsBytes = 512 << 20

// mounts maps a service's volumes: and tmpfs: entries. memory is the
// service's memory limit in bytes (0: none), the size of a tmpfs that
// gives none: its pages are charged to the container's memory cgroup, so
// that limit bounds it already.
func (vs *volumeSet) mounts(s types.ServiceConfig, memory int64) []v1alpha1.VolumeMount {
	unsized := memory
	if unsized <= 0 {
		unsized = defaultTmpfsBytes
	}
	sp := "services." + s.Name
	var out []v1alpha1.VolumeMount
	for i, v := range s.Volumes {
		vp := fmt.Sprintf("%s.volumes[%d]", sp, i)
		m := v1alpha1.VolumeMount{MountPath: v.Target, ReadOnly: v.ReadOnly}
		switch v.Type {
		case types.VolumeTypeVolume:
			if v.Volume != nil && v.Volume.NoCopy {
				vs.r.add(vp+".volume.nocopy", "not in the Environment API: Docker copies the image's files into a new volume")
			}
			if v.Source == "" {
				// An anonymous volume: compose finds it again on
				// the next up by the container it belonged to;
				// berth gives it a name of its own, kept (and
				// removed) with the Environment.
				m.Name = vs.add("anon:"+s.Name+":"+v.Target, "anon", s.Name+"-"+path.Base(v.Target), v1alpha1.Volume{})
				break
			}
			m.Name = of(vs.names.volumes, v.Source)
		case types.VolumeTypeBind:
			key := v.Source
			if rel, err := filepath.Rel(vs.dir, v.Source); err == nil && filepath.IsLocal(rel) {
				key = "./" + filepath.ToSlash(rel)
			}
			m.Name = vs.add("bind:"+key, "bind", filepath.Base(v.Source),
				v1alpha1.Volume{HostPath: &v1alpha1.HostPathVolumeSource{Path: v.Source}})
		case types.VolumeTypeTmpfs:
			size := unsized
			if v.Tmpfs != nil && v.Tmpfs.Size != 0 {
				size = int64(v.Tmpfs.Size)
			}
			m.Name = vs.tmpfs(s.Name, v.Target, size)
		default:
			vs.r.add(vp+".type", "%q: volume, bind or tmpfs", v.Type)
			continue
		}
		out = append(out, m)
	}
	for i, t := range s.Tmpfs {
		tp := fmt.Sprintf("%s.tmpfs[%d]", sp, i)
		target, size, err := parseTmpfs(t)
		if err != nil {
			vs.r.add(tp, "%q: %v", t, err)
			continue
		}
		if size == 0 {
			size = unsized
		}
		out = append(out, v1alpha1.VolumeMount{Name: vs.tmpfs(s.Name, target, size), MountPath: target})
	}
	return out
}

func (vs *volumeSet) tmpfs(service, target string, size int64) string {
	return vs.add("tmpfs:"+service+":"+target, "tmpfs", service+"-"+path.Base(target),
		v1alpha1.Volume{EmptyDir: &v1alpha1.EmptyDirVolumeSource{
			Medium: v1alpha1.StorageMediumMemory, SizeLimit: ptr.To(bytesQuantity(size)),
		}})
}

// parseTmpfs reads a tmpfs: entry, PATH[:size=SIZE], as docker run --tmpfs
// writes it; size is 0 when the entry gives none. mode=1777 is what a
// tmpfs is mounted with anyway; other options are refused.
func parseTmpfs(t string) (target string, size int64, err error) {
	target, opts, _ := strings.Cut(t, ":")
	for _, o := range strings.Split(opts, ",") {
		if o == "" {
			continue
		}
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "size":
			if size, err = units.RAMInBytes(v); err != nil || size <= 0 {
				return "", 0, fmt.Errorf("size %q is not a size such as 64m", v)
			}
		case "rw":
		case "mode":
			if v != "1777" {
				return "", 0, fmt.Errorf("option %q is not in the Environment API (only size, and mode=1777, a tmpfs's default)", o)
			}
		default:
			return "", 0, fmt.Errorf("option %q is not in the Environment API (only size, and mode=1777, a tmpfs's default)", o)
		}
	}
	return target, size, nil
}
