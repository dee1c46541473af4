package v1alpha1

// Build says how to build a service's image from a Dockerfile, as compose's
// build: does. The manager reads the context directory on its own host.
type Build struct {
	// Context is the build context directory. The server takes absolute
	// paths only; `berth apply -f` resolves a relative one against the
	// directory of the file.
	Context string `json:"context"`
	// Dockerfile is the Dockerfile's path relative to the context
	// (default Dockerfile).
	// +optional
	Dockerfile string `json:"dockerfile,omitempty"`
	// Args are build arguments (ARG in the Dockerfile).
	// +optional
	Args map[string]string `json:"args,omitempty"`
	// Target is the stage of a multi-stage Dockerfile to build.
	// +optional
	Target string `json:"target,omitempty"`
}

// Bounds of a build section.
const (
	MaxBuildPathLength  = 4096
	MaxBuildArgs        = 64
	MaxBuildArgValueLen = 4096
	MaxBuildTargetLen   = 128
)

// DefaultDockerfile is the Dockerfile a build uses when none is named.
const DefaultDockerfile = "Dockerfile"

// LabelBuildHash is on every image berth built: the content hash of the
// build (context files, modes, Dockerfile, args, target) the tag names.
const LabelBuildHash = "berth.dev/build-hash"
